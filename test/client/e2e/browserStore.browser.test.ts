// The browser channel store in real Chromium (Debian's, driven by playwright-core): a page pays a real gate
// through a JSON-RPC wallet with a session key kept in localStorage; after a reload a new paying fetch on
// the same storage resumes the channel and its key with no wallet prompt, and the close drops the key.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { type BrowserSite, CHROMIUM, launchChromium, startBrowserSite } from "./browserSite.js";
import type { PageConfig } from "./browserStorePage.js";
import { clientSuite, PRICE, type Seller, USDC } from "./fixture.js";
import type { Prompts } from "./wallets.js";

const OUTPUT = "test-output";
const PAYER = 15;

describe("client e2e: the browser channel store in headless Chromium", function () {
  this.timeout(180_000);
  const suite = clientSuite();
  let shop: Seller;
  let site: BrowserSite;
  let browser: Browser;
  const prompts: Prompts = { eth_signTypedData_v4: 0, eth_sendTransaction: 0 };

  before(async function () {
    assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}`);
    shop = await suite.seller();
    // One origin for the page, the paid API and the wallet's JSON-RPC (counted as a wallet would prompt).
    site = await startBrowserSite({
      page: new URL("./browserStorePage.ts", import.meta.url),
      rpcUrl: suite.chain.rpcUrl,
      prompts,
      handle: (request) => shop.route.handle(request, async (_request, payment) => Response.json({ channelId: payment.method === "session" ? payment.channelId : null })),
    });
    browser = await launchChromium();
  });

  after(async function () {
    await browser?.close();
    await site?.stop();
  });

  const call = <T>(page: Page, action: "buy" | "close" | "show", config: PageConfig) =>
    page.evaluate(([name, argument]) => (globalThis as unknown as Record<string, Record<string, (config: PageConfig) => Promise<unknown>>>).tollgateTest![name]!(argument), [action, config] as const) as Promise<T>;

  it("test_browserStore_aReloadResumesTheChannelAndItsSessionKey", async function () {
    const payer = suite.chain.account(PAYER).address;
    await suite.chain.mint(payer, 100n * USDC);
    const config: PageConfig = { chainId: suite.chain.chain.id, escrow: suite.chain.escrow, currency: suite.chain.token, payer, path: "/api/photo" };
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    mkdirSync(OUTPUT, { recursive: true });
    await page.goto(`${site.origin}/`);
    await page.waitForFunction(() => "tollgateTest" in globalThis);

    for (let photo = 0; photo < 2; photo++) assert.equal((await call<{ status: number }>(page, "buy", config)).status, 200);
    const [before] = await call<Record<string, string>[]>(page, "show", config);
    await page.screenshot({ path: `${OUTPUT}/browser-store-before-reload.png` });
    assert.deepEqual(prompts, { eth_signTypedData_v4: 0, eth_sendTransaction: 2 }, "approve and open; no prompt per request");

    await page.reload();
    await page.waitForFunction(() => "tollgateTest" in globalThis);
    assert.equal((await call<{ status: number }>(page, "buy", config)).status, 200);
    const [after] = await call<Record<string, string>[]>(page, "show", config);
    await page.screenshot({ path: `${OUTPUT}/browser-store-after-reload.png` });
    assert.equal(after!.channelId, before!.channelId, "the reload resumed the channel");
    assert.equal(after!.sessionKey, before!.sessionKey);
    assert.equal(after!.cumulativeAmount, String(3n * PRICE));
    assert.deepEqual(prompts, { eth_signTypedData_v4: 0, eth_sendTransaction: 2 }, "no prompt after the reload either");
    assert.equal((await shop.store.getChannel(before!.channelId as `0x${string}`))!.spent, 3n * PRICE);

    assert.equal(await call<string>(page, "close", config), String(3n * PRICE));
    const stored = await page.evaluate(() => Object.keys(localStorage).map((key) => localStorage.getItem(key)!));
    assert.equal(stored.length, 1);
    assert.equal(stored[0]!.includes(before!.sessionKey!.slice(2)), false, "the session key left localStorage with the close");
    assert.match(stored[0]!, /"status":"closed"/);
    assert.deepEqual(errors, []);
  });
});
