// The browser channel store in real Chromium (Debian's, driven by playwright-core): a page pays a real gate
// through a JSON-RPC wallet with a session key kept in localStorage; after a reload a new paying fetch on
// the same storage resumes the channel and its key with no wallet prompt, and the close drops the key.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { type Browser, chromium, type Page } from "playwright-core";
import { toNodeHandler } from "../../../sdk/src/server/node.js";
import type { PageConfig } from "./browserStorePage.js";
import { clientSuite, PRICE, type Seller, USDC } from "./fixture.js";
import type { Prompts } from "./wallets.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const OUTPUT = "test-output";
const PAYER = 15;

describe("client e2e: the browser channel store in headless Chromium", function () {
  this.timeout(180_000);
  const suite = clientSuite();
  let shop: Seller;
  let site: Server;
  let origin: string;
  let browser: Browser;
  const prompts: Prompts = { eth_signTypedData_v4: 0, eth_sendTransaction: 0 };

  before(async function () {
    assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}`);
    shop = await suite.seller();
    const script = (await build({ entryPoints: [fileURLToPath(new URL("./browserStorePage.ts", import.meta.url))], bundle: true, format: "esm", platform: "browser", target: "es2022", write: false, logLevel: "silent" })).outputFiles[0]!.text;
    // One origin for the page, the paid API and the wallet's JSON-RPC (counted as a wallet would prompt).
    site = createServer(
      toNodeHandler(async (request) => {
        const { pathname } = new URL(request.url);
        if (pathname === "/") return new Response('<!doctype html><meta charset="utf-8"><script type="module" src="/app.js"></script><body></body>', { headers: { "content-type": "text/html" } });
        if (pathname === "/app.js") return new Response(script, { headers: { "content-type": "text/javascript" } });
        if (pathname === "/rpc") {
          const body = await request.text();
          const calls = [JSON.parse(body) as { method: string } | { method: string }[]].flat();
          for (const { method } of calls) if (method in prompts) prompts[method as keyof Prompts]++;
          const upstream = await fetch(suite.chain.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body });
          return new Response(upstream.body, { status: upstream.status, headers: { "content-type": "application/json" } });
        }
        return shop.route.handle(request, async (_request, payment) => Response.json({ channelId: payment.method === "session" ? payment.channelId : null }));
      }),
    );
    await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });

  after(async function () {
    await browser?.close();
    site?.closeAllConnections();
    await new Promise((resolve) => (site ? site.close(resolve) : resolve(undefined)));
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
    await page.goto(`${origin}/`);
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
