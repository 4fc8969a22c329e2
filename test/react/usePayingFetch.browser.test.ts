// tollgate/react's usePayingFetch in real Chromium (Debian's, driven by playwright-core): React Testing
// Library renders the hook in the page's DOM, and it pays a real gate over HTTP on the local Hardhat chain
// through a JSON-RPC wallet. The seller holds each paid request until the test lets it through, so the
// state during the request is seen for certain, not by luck of timing.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { getChannel } from "../../sdk/src/channel/getChannel.js";
import { type BrowserSite, CHROMIUM, launchChromium, startBrowserSite } from "../client/e2e/browserSite.js";
import { clientSuite, PRICE, type Seller, USDC } from "../client/e2e/fixture.js";
import type { Prompts } from "../client/e2e/wallets.js";
import type { PageConfig, Shown } from "./usePayingFetchPage.js";

const PAYER = 16;

describe("react: usePayingFetch in headless Chromium against a real gate", function () {
  this.timeout(180_000);
  const suite = clientSuite();
  let shop: Seller;
  let site: BrowserSite;
  let browser: Browser;
  const prompts: Prompts = { eth_signTypedData_v4: 0, eth_sendTransaction: 0 };
  /** Requests that carried a Payment credential. */
  let credentials = 0;
  /** When set, the next paid request waits here: `arrived` resolves as it comes in, `release()` lets it through. */
  let hold: { arrived: () => void; released: Promise<void> } | undefined;

  /** Holds the next paid request; resolves with the function that lets it through once it has arrived. */
  function holdNextPaidRequest(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    return new Promise((resolve) => (hold = { arrived: () => resolve(release), released }));
  }

  before(async function () {
    assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}`);
    shop = await suite.seller();
    site = await startBrowserSite({
      page: new URL("./usePayingFetchPage.ts", import.meta.url),
      // React's development build: it warns (console.error) about misuse, which the test counts.
      define: { "process.env.NODE_ENV": '"development"' },
      rpcUrl: suite.chain.rpcUrl,
      prompts,
      async handle(request) {
        if (request.headers.has("authorization")) {
          credentials++;
          const held = hold;
          hold = undefined;
          held?.arrived();
          await held?.released;
        }
        return shop.route.handle(request, async () => Response.json({ photo: true }));
      },
    });
    browser = await launchChromium();
  });

  after(async function () {
    await browser?.close();
    await site?.stop();
  });

  type Page$ = { page: Page; errors: string[] };
  async function openPage(): Promise<Page$> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    // React's warnings; Chromium's own lines for the 402s the client answers are expected.
    page.on("console", (message) => {
      if ((message.type() === "error" || message.type() === "warning") && !message.text().includes("status of 402")) errors.push(message.text());
    });
    await page.goto(`${site.origin}/`);
    await page.waitForFunction(() => "tollgateTest" in globalThis);
    return { page, errors };
  }

  const call = <T>({ page }: Page$, action: string, ...argument: unknown[]) =>
    page.evaluate(([name, args]) => (globalThis as unknown as Record<string, Record<string, (...args: unknown[]) => unknown>>).tollgateTest![name]!(...args), [action, argument] as const) as Promise<T>;

  /** The values `flag` took over the renders, repeats dropped. */
  const steps = (renders: Shown[], flag: "isPaying" | "isClosing") => renders.map((shown) => shown[flag]).filter((value, index, all) => index === 0 || value !== all[index - 1]);

  it("test_usePayingFetch_idle_payingDuringTheFirstRequest_spentAfterIt_closedAndRefundedOnChain", async function () {
    const payer = suite.chain.account(PAYER).address;
    await suite.chain.mint(payer, 100n * USDC);
    const balance = await suite.chain.balanceOf(payer);
    const config: PageConfig = { chainId: suite.chain.chain.id, escrow: suite.chain.escrow, currency: suite.chain.token, payer, path: "/api/photo" };
    const tab = await openPage();

    const idle = await call<Shown>(tab, "mount", config);
    assert.deepEqual(idle, { isPaying: false, isClosing: false, totalSpent: "0", totalAuthorized: "0", channels: [], payments: 0, error: null });

    // The first paid request: the wallet funds the channel, then the paid request is held at the seller.
    let release = holdNextPaidRequest();
    await call(tab, "buy");
    const letThrough = await release;
    const paying = await call<Shown>(tab, "waitUntil", "isPaying", true);
    assert.equal(paying.totalSpent, "0", "nothing charged before the seller answers");
    assert.deepEqual(paying.channels.map(({ status, spent, cumulativeAmount }) => ({ status, spent, cumulativeAmount })), [{ status: "open", spent: "0", cumulativeAmount: String(PRICE) }], "the open is on record while its request is in flight");
    letThrough();
    const bought = await call<{ outcome: number; shown: Shown }>(tab, "finish");
    assert.equal(bought.outcome, 200);
    assert.equal(bought.shown.isPaying, false);
    assert.equal(bought.shown.totalSpent, String(PRICE));
    assert.equal(bought.shown.error, null);
    const [channel] = bought.shown.channels;
    assert.deepEqual({ status: channel!.status, spent: channel!.spent }, { status: "open", spent: String(PRICE) });
    assert.equal((await shop.store.getChannel(channel!.channelId as `0x${string}`))!.spent, PRICE, "the gate charged the same");
    assert.deepEqual(prompts, { eth_signTypedData_v4: 0, eth_sendTransaction: 2 }, "approve and open, once");
    assert.deepEqual(steps(await call<Shown[]>(tab, "renders"), "isPaying"), [false, true, false]);

    // Parameters equal to the last keep the paying fetch (and its state).
    const same = await call<{ keptPay: boolean; shown: Shown }>(tab, "rerender", "same");
    assert.equal(same.keptPay, true);
    assert.equal(same.shown.totalSpent, String(PRICE));

    // close(): the open channel, cooperatively; the seller settles the price and the rest comes back.
    release = holdNextPaidRequest();
    await call(tab, "close");
    const letCloseThrough = await release;
    assert.equal((await call<Shown>(tab, "waitUntil", "isClosing", true)).isPaying, false);
    letCloseThrough();
    const closed = await call<{ outcome: { settled: string; refund: string; txHash: string }[]; shown: Shown }>(tab, "finish");
    assert.equal(closed.outcome.length, 1);
    assert.equal(closed.outcome[0]!.settled, String(PRICE));
    assert.equal(BigInt(closed.outcome[0]!.refund), BigInt(channel!.deposit) - PRICE);
    assert.equal(closed.shown.isClosing, false);
    assert.deepEqual(closed.shown.channels.map(({ status }) => status), ["closed"]);
    assert.equal(closed.shown.totalSpent, String(PRICE));
    const onChain = await getChannel({ client: suite.chain.publicClient, escrow: suite.chain.escrow, channelId: channel!.channelId as `0x${string}` });
    assert.equal(onChain?.finalized, true);
    assert.equal(await suite.chain.balanceOf(payer), balance - PRICE, "the buyer paid the price and got the rest of the deposit back");
    assert.deepEqual(tab.errors, []);
    await tab.page.close();
  });

  it("test_usePayingFetch_aPriceAboveTheCapIsTheErrorByName_withNoPayment_andANewCapMakesANewFetch", async function () {
    const payer = suite.chain.account(PAYER + 1).address;
    await suite.chain.mint(payer, 100n * USDC);
    const config: PageConfig = { chainId: suite.chain.chain.id, escrow: suite.chain.escrow, currency: suite.chain.token, payer, path: "/api/photo" };
    const tab = await openPage();
    await call<Shown>(tab, "mount", config);

    const capped = await call<{ keptPay: boolean; shown: Shown }>(tab, "rerender", { maxPricePerUnit: String(PRICE - 1n) });
    assert.equal(capped.keptPay, false, "another cap is another paying fetch");
    const sentBefore = credentials;
    const promptsBefore = { ...prompts };
    await call(tab, "buy");
    const refused = await call<{ thrown: string; shown: Shown }>(tab, "finish");
    assert.equal(refused.thrown, "PaymentCapError");
    assert.deepEqual(refused.shown.error, { name: "PaymentCapError", cap: "maxPricePerUnit" });
    assert.deepEqual([refused.shown.isPaying, refused.shown.totalSpent, refused.shown.totalAuthorized, refused.shown.channels, refused.shown.payments], [false, "0", "0", [], 0]);
    assert.equal(credentials, sentBefore, "no credential reached the seller");
    assert.deepEqual(prompts, promptsBefore, "the wallet was never asked");
    assert.deepEqual(steps(await call<Shown[]>(tab, "renders"), "isPaying"), [false], "never paying");

    assert.equal(await call<string>(tab, "unmount"), "<div></div>", "the hook's root is empty");
    assert.deepEqual(tab.errors, []);
    await tab.page.close();
  });
});
