// What the browser tests share: a page module bundled with esbuild, one loopback origin that serves it, a
// wallet's JSON-RPC pass-through to the local node (counting the requests a wallet would prompt for) and
// the paid API, and Debian's Chromium driven by playwright-core.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { type Browser, chromium } from "playwright-core";
import { toNodeHandler } from "../../../sdk/src/server/node.js";
import type { Prompts } from "./wallets.js";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export type StartBrowserSiteParameters = {
  /** The page module (a .ts file beside the test), bundled for the browser. */
  page: URL;
  /** Replacements for the bundle (esbuild's `define`). */
  define?: Record<string, string>;
  /** The local node's RPC URL, behind the page's `/rpc`. */
  rpcUrl: string;
  /** Counted as a wallet would prompt: each `eth_signTypedData_v4` and `eth_sendTransaction` through `/rpc`. */
  prompts: Prompts;
  /** Every other request: the paid API. */
  handle(request: Request): Promise<Response>;
};

export type BrowserSite = { origin: string; stop(): Promise<void> };

/** Serves the page at `/`, its script at `/app.js`, the wallet's JSON-RPC at `/rpc` and the API, on one loopback origin. */
export async function startBrowserSite({ page, define = {}, rpcUrl, prompts, handle }: StartBrowserSiteParameters): Promise<BrowserSite> {
  const script = (await build({ entryPoints: [fileURLToPath(page)], bundle: true, format: "esm", platform: "browser", target: "es2022", define, write: false, logLevel: "silent" })).outputFiles[0]!.text;
  const site = createServer(
    toNodeHandler(async (request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/") return new Response('<!doctype html><meta charset="utf-8"><script type="module" src="/app.js"></script><body></body>', { headers: { "content-type": "text/html" } });
      if (pathname === "/app.js") return new Response(script, { headers: { "content-type": "text/javascript" } });
      if (pathname === "/rpc") {
        const body = await request.text();
        const calls = [JSON.parse(body) as { method: string } | { method: string }[]].flat();
        for (const { method } of calls) if (method in prompts) prompts[method as keyof Prompts]++;
        const upstream = await fetch(rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body });
        return new Response(upstream.body, { status: upstream.status, headers: { "content-type": "application/json" } });
      }
      return handle(request);
    }),
  );
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(site.address() as AddressInfo).port}`,
    async stop() {
      site.closeAllConnections();
      await new Promise((resolve) => site.close(resolve));
    },
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}
