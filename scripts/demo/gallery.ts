// The paid photo gallery: $0.01 per photo at /api/sessions/photo, a web page at / that buys photos
// from the browser through a wallet, the demo wallet's JSON-RPC pass-through at /rpc to the local chain,
// and /tx/<hash>, each transaction as the chain states it (what the page links to).
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Address } from "viem";
import type { PaymentGate, SessionRoute } from "../../sdk/src/server/index.js";
import { toNodeHandler } from "../../sdk/src/server/node.js";
import { describeTransaction } from "./describeTransaction.js";
import { photo } from "./photos.js";
import { createRpcPassThrough } from "./rpcPassThrough.js";

export const PHOTO_PRICE = 10_000n; // $0.01 in a 6-decimal stablecoin
export const PHOTO_PATH = "/api/sessions/photo";

export type GalleryParameters = {
  gate: PaymentGate;
  rpcUrl: string;
  escrow: Address;
  currency: Address;
  /** The node's unlocked test account that the page's built-in demo wallet pays with (its key stays in the node). */
  wallet: Address;
  photos: "local" | "picsum";
};

export type Gallery = { server: Server; url: string; route: SessionRoute; close(): Promise<void> };

export async function startGallery({ gate, rpcUrl, escrow, currency, wallet, photos }: GalleryParameters): Promise<Gallery> {
  const route = gate.session({ amount: PHOTO_PRICE, unitType: "photo", suggestedDeposit: 100n * PHOTO_PRICE, description: "One photo from the gallery" });
  let served = 0;
  const page = await readFile(fileURLToPath(new URL("./page.html", import.meta.url)), "utf8");
  const script = await bundleBrowserClient();
  const chainId = gate.chain.publicClient.chain!.id;
  // Made once the server listens (before its URL is known to anyone): it checks the gallery's own origin.
  let rpc: ((request: Request) => Promise<Response>) | undefined;

  const handler = toNodeHandler(async (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === PHOTO_PATH) {
      return route.handle(request, (_request, payment) => Response.json({ ...photo(++served, photos), channelId: payment.method === "session" ? payment.channelId : undefined }));
    }
    if (pathname === "/") return new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
    if (pathname === "/app.js") return new Response(script, { headers: { "content-type": "text/javascript" } });
    if (pathname === "/config.json") {
      return Response.json({ chainId, escrow, currency, price: PHOTO_PRICE.toString(), photoPath: PHOTO_PATH });
    }
    if (pathname === "/rpc" && request.method === "POST") return rpc!(request);
    if (pathname.startsWith("/tx/")) return describeTransaction({ publicClient: gate.chain.publicClient, hash: pathname.slice("/tx/".length) });
    return new Response("Not found", { status: 404 });
  });
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const origins = [url, url.replace("127.0.0.1", "localhost")];
  rpc = createRpcPassThrough({ rpcUrl, account: wallet, contracts: [escrow, currency], origins });
  return {
    server,
    url,
    route,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The page's paying client: the SDK's createPayingFetch, bundled for the browser. */
async function bundleBrowserClient(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL("./browser.ts", import.meta.url))],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    minify: true,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}
