// The gallery page in a real headless Chromium (Debian's package, driven by playwright-core), paying
// through a wallet: the built-in demo wallet (the node's unlocked test account behind the demo's /rpc), or
// a wallet injected as window.ethereum or announced over EIP-6963. Every JSON-RPC call the page sends is
// seen at /rpc, where the wallet requests are counted: the funding once per channel, none per photo, none
// after a reload, which resumes the same channel and session key.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { formatUnits, type Hex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { BROWSER_BUYER, type Demo, startDemo } from "../../scripts/demo/startDemo.js";
import { TEST_MNEMONIC } from "../../scripts/localChain.js";
import { testWalletScript } from "./testWalletScript.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Git-ignored. */
const OUTPUT = "test-output";
/** What a wallet asks its user about: signatures and transactions. */
const WALLET_METHODS = new Set(["eth_sendTransaction", "wallet_sendTransaction", "eth_signTypedData_v4", "eth_sign", "personal_sign"]);

type RpcCall = { method: string; params: unknown[]; wallet: string | undefined };

/** Every JSON-RPC call the page sends to the demo's /rpc, and which wallet sent it (the injected test wallets say so in a header). */
function recordRpc(page: Page) {
  const calls: RpcCall[] = [];
  page.on("request", (request) => {
    if (new URL(request.url()).pathname !== "/rpc") return;
    const body = request.postDataJSON() as RpcCall | RpcCall[];
    for (const call of Array.isArray(body) ? body : [body]) calls.push({ method: call.method, params: call.params, wallet: request.headers()["x-test-wallet"] });
  });
  return { calls, walletRequests: () => calls.filter(({ method }) => WALLET_METHODS.has(method)) };
}

/** Every body the demo's server sent the page. */
function recordResponses(page: Page) {
  const bodies: Promise<string>[] = [];
  page.on("response", (response) => void bodies.push(response.text().catch(() => "")));
  return () => Promise.all(bodies);
}

async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(OUTPUT, { recursive: true });
  const path = resolve(OUTPUT, `gallery-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`      screenshot: ${path}`);
  return path;
}

/** Clicks `button` and waits until the page's status is no longer `pending`; the status it ends with. */
async function click(page: Page, button: string, pending: string): Promise<string> {
  await page.getByTestId(button).click();
  await page.waitForFunction((text) => document.getElementById("status")!.textContent !== text, pending, { timeout: 60_000 });
  return (await page.getByTestId("status").textContent())!;
}

/** Buys one photo (the gallery numbers them across buyers). */
async function buy(page: Page) {
  assert.match(await click(page, "buy", "Paying…"), /^Bought photo #\d+$/);
}

async function closeChannel(page: Page) {
  assert.match(await click(page, "close", "Closing the channel on-chain…"), /^Closed: paid /);
}

/** The page's channel record in localStorage, session key included. */
async function storedChannel(page: Page): Promise<{ channelId: Hex; sessionKey?: Hex; status: string }> {
  const entries = await page.evaluate(() => Object.entries(localStorage).filter(([name]) => name.startsWith("tollgate:channel:")).map(([, value]) => value));
  assert.equal(entries.length, 1);
  return JSON.parse(entries[0]!);
}

describe("e2e: the gallery page in headless Chromium, paying through a wallet", function () {
  this.timeout(240_000);
  let demo: Demo;
  let browser: Browser;
  let buyer: Hex;
  const usd = (amount: bigint) => `$${formatUnits(amount, 6)}`;

  before(async function () {
    assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: .ci/run installs Debian's chromium package`);
    demo = await startDemo({ fund: [BROWSER_BUYER] });
    buyer = demo.chain.account(BROWSER_BUYER).address;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Root in a sandboxed machine; no background traffic, since only loopback is reachable.
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });

  after(async function () {
    await browser?.close();
    await demo?.stop();
  });

  it("test_galleryPage_demoWallet_fundsOncePerChannel_noWalletRequestPerPhoto_resumesTheChannelAfterReload_closes", async function () {
    const buyerBefore = await demo.chain.balanceOf(buyer);
    const sellerBefore = await demo.chain.balanceOf(demo.seller.address);
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    const rpc = recordRpc(page);
    const responses = recordResponses(page);
    await page.goto(`${demo.gallery.url}/`);
    await page.getByTestId("status").filter({ hasText: "Ready" }).waitFor();

    // Before buying: the demo wallet, not connected yet, and no channel to close.
    assert.equal(await page.getByTestId("wallet").textContent(), "Demo wallet (the local node's test account)");
    assert.equal(await page.getByTestId("address").textContent(), "not connected");
    assert.ok(await page.getByTestId("close").isDisabled());
    assert.ok(await page.getByTestId("connect").isEnabled());
    await screenshot(page, "1-before-buying");

    // The first Buy connects the wallet, which funds the channel: approve and open, nothing signed.
    await buy(page);
    assert.deepEqual(rpc.walletRequests().map(({ method }) => method), ["eth_sendTransaction", "eth_sendTransaction"]);
    for (const { params } of rpc.walletRequests()) assert.equal((params[0] as { from: Hex }).from.toLowerCase(), buyer.toLowerCase());
    assert.equal(await page.getByTestId("address").textContent(), buyer);
    const channelId = (await page.getByTestId("channel").textContent()) as Hex;
    const { sessionKey } = await storedChannel(page);
    assert.match(sessionKey ?? "", /^0x[0-9a-f]{64}$/, "the channel's session key is kept with it");

    // Each further photo: a voucher signed by the session key, no wallet request.
    for (let photo = 2; photo <= 3; photo++) await buy(page);
    assert.equal(rpc.walletRequests().length, 2);
    assert.equal(await page.locator("#photos figure").count(), 3);
    assert.equal(await page.getByTestId("spent").textContent(), "$0.03");
    assert.equal(await page.getByTestId("deposit").textContent(), "$1");
    assert.equal(await page.getByTestId("remaining").textContent(), "$0.97");
    assert.equal(await page.getByTestId("balance").textContent(), usd(await demo.chain.balanceOf(buyer)));
    assert.ok(await page.getByTestId("close").isEnabled());
    await screenshot(page, "2-after-buying");

    // Each listed transaction links to the demo's explorer, which states what the chain mined.
    const links = page.getByTestId("transactions").locator("a");
    assert.deepEqual(await links.allTextContents(), ["approve (by the buyer)", "open (by the buyer)"]);
    const mined = await Promise.all((await links.evaluateAll((anchors) => anchors.map((anchor) => (anchor as HTMLAnchorElement).href))).map(async (href) => (await fetch(href)).json()));
    assert.deepEqual(
      mined.map(({ function: name, to, from, status }) => [name, to.toLowerCase(), from.toLowerCase(), status]),
      [
        ["approve", demo.chain.token.toLowerCase(), buyer.toLowerCase(), "success"],
        ["open", demo.chain.escrow.toLowerCase(), buyer.toLowerCase(), "success"],
      ],
    );

    // A reload resumes the same channel and session key: no new funding, and the next photo asks the wallet nothing.
    await page.reload();
    await page.getByTestId("status").filter({ hasText: "Ready" }).waitFor();
    assert.equal(await page.getByTestId("channel").textContent(), channelId);
    assert.equal(await page.getByTestId("address").textContent(), buyer);
    assert.equal(await page.getByTestId("spent").textContent(), "$0.03");
    assert.ok(await page.getByTestId("close").isEnabled());
    assert.equal(await links.count(), 2, "the transaction list survives the reload");
    await screenshot(page, "3-after-reload");
    await buy(page);
    assert.equal(rpc.walletRequests().length, 2, "no wallet request after the reload");
    assert.equal(await page.getByTestId("channel").textContent(), channelId);
    assert.equal((await storedChannel(page)).sessionKey, sessionKey);
    assert.equal(await page.getByTestId("spent").textContent(), "$0.04");

    // Close: the seller settles on-chain and the escrow refunds the rest; again no wallet request.
    await closeChannel(page);
    assert.equal(rpc.walletRequests().length, 2);
    assert.equal(await page.getByTestId("state").textContent(), "closed");
    assert.ok(await page.getByTestId("close").isDisabled());
    assert.equal((await storedChannel(page)).sessionKey, undefined, "the session key is dropped with the closed channel");
    assert.deepEqual(await links.allTextContents(), ["approve (by the buyer)", "open (by the buyer)", "close (by the seller)"]);
    assert.equal(await demo.chain.balanceOf(demo.seller.address), sellerBefore + 40_000n);
    assert.equal(await demo.chain.balanceOf(buyer), buyerBefore - 40_000n);
    assert.equal(await page.getByTestId("balance").textContent(), usd(buyerBefore - 40_000n));

    // The server never gave the page the wallet's key or the mnemonic.
    const walletKey = Buffer.from(mnemonicToAccount(TEST_MNEMONIC, { addressIndex: BROWSER_BUYER }).getHdKey().privateKey!).toString("hex");
    const seen = [...(await responses()), await page.evaluate(() => JSON.stringify(localStorage))];
    assert.ok(seen.length > 10);
    for (const body of seen) {
      assert.ok(!body.toLowerCase().includes(walletKey), "no response carries the wallet's private key");
      assert.ok(!body.includes(TEST_MNEMONIC), "no response carries the mnemonic");
    }
    assert.deepEqual(errors, []);
    await context.close();
  });

  for (const kind of ["window.ethereum", "EIP-6963"] as const) {
    it(`test_galleryPage_injectedWallet_${kind}_isUsedInsteadOfTheDemoWallet`, async function () {
      const buyerBefore = await demo.chain.balanceOf(buyer);
      const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
      await context.addInitScript({ content: testWalletScript(kind) });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      const rpc = recordRpc(page);
      await page.goto(`${demo.gallery.url}/`);
      await page.getByTestId("status").filter({ hasText: "Ready" }).waitFor();
      assert.equal(await page.getByTestId("wallet").textContent(), kind === "EIP-6963" ? "Test wallet (EIP-6963)" : "Browser wallet (window.ethereum)");
      assert.equal(await page.getByTestId("address").textContent(), "not connected", "a wallet that has not connected this page shows no account");

      assert.equal(await click(page, "connect", "Connecting the wallet…"), "Connected");
      assert.equal(await page.getByTestId("address").textContent(), buyer);
      assert.ok(await page.getByTestId("connect").isDisabled());
      await buy(page);
      await buy(page);
      await closeChannel(page);

      const injected = await page.evaluate(() => (window as unknown as { injectedCalls: string[] }).injectedCalls);
      assert.deepEqual(injected.slice(0, 2), ["eth_accounts", "eth_requestAccounts"], "asked silently on load, then on Connect");
      assert.deepEqual(injected.filter((method) => WALLET_METHODS.has(method)), ["eth_sendTransaction", "eth_sendTransaction"]);
      assert.deepEqual(rpc.walletRequests().map(({ wallet }) => wallet), ["injected", "injected"], "every wallet request went through the injected wallet");
      assert.deepEqual(await page.evaluate(() => (window as unknown as { decoyCalls: string[] }).decoyCalls), [], "an EIP-6963 wallet is preferred to window.ethereum");
      assert.equal(await demo.chain.balanceOf(buyer), buyerBefore - 20_000n, "two photos paid, the rest refunded");
      assert.deepEqual(errors, []);
      await context.close();
    });
  }
});
