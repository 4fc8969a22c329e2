// The server under load in `npm run bench:server`, in its own process so that the load generator does
// not share its event loop: `node --import tsx bench/serverProcess.ts '<config json>'`, on the built SDK. It serves the same
// handler twice, on /unpaid directly and on /paid through the payment gate, over node:http with the SDK's
// node adapter in both cases, so that the difference between the two is the gate alone. With
// `processes` above 1 it is the "Several processes" recipe of docs/server.md: Node's cluster forks that
// many servers, each with its own gate and store pool on the same PostgreSQL schema, sharing one port.
import cluster from "node:cluster";
import { createServer } from "node:http";
import { type Address, type Hex, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { loopbackChain } from "../scripts/loopbackChain.js";
import { openSessionStore, type StoreLocation } from "../scripts/openSessionStore.js";

// The SDK as its package ships it (sdk/dist, `npm run build:sdk`), not its sources through tsx: esbuild's
// keepNames, which tsx turns on, names every closure the gate makes per request (`__name`), which cost
// this server about 5% of its paid throughput. Typed from the sources, which dist is compiled from.
const built = <T>(path: string): Promise<T> => import(new URL(`../sdk/dist/${path}`, import.meta.url).href) as Promise<T>;
const { createPaymentGate } = await built<typeof import("../sdk/src/server/index.js")>("server/index.js");
const { toNodeHandler } = await built<typeof import("../sdk/src/server/node.js")>("server/node.js");
const { createSqliteStore } = await built<typeof import("../sdk/src/server/sqlite.js")>("server/sqlite.js");
const { createPostgresStore } = await built<typeof import("../sdk/src/server/postgres.js")>("server/postgres.js");

export type BenchServerConfig = {
  rpcUrl: string;
  chainId: number;
  escrow: Address;
  token: Address;
  sellerKey: Hex;
  secret: string;
  price: string;
  chargeMode: "reserve" | "charge";
  store: StoreLocation;
  /** Server processes sharing the port (Node's cluster); default 1. */
  processes?: number;
};

const config = JSON.parse(process.argv[2] ?? "{}") as BenchServerConfig;
if (cluster.isPrimary && (config.processes ?? 1) > 1) await runPrimary(config.processes!);
else await serve();

/** Forks the servers, prints the port once every one listens, and stops them all on SIGTERM. */
async function runPrimary(count: number): Promise<void> {
  const workers = Array.from({ length: count }, () => cluster.fork());
  const ports = await Promise.all(workers.map((worker) => new Promise<number>((resolve) => worker.once("message", (message: { port: number }) => resolve(message.port)))));
  process.stdout.write(`${JSON.stringify({ port: ports[0] })}\n`);
  process.on("SIGTERM", () => {
    for (const worker of workers) worker.process.kill("SIGTERM");
    void Promise.all(workers.map((worker) => new Promise((resolve) => worker.once("exit", resolve)))).then(() => process.exit(0));
  });
}

async function serve(): Promise<void> {
  const chain = loopbackChain({ id: config.chainId, rpcUrl: config.rpcUrl });
  const store = await openSessionStore({ location: config.store, maxConnections: 10, factories: { createSqliteStore, createPostgresStore } });
  const gate = createPaymentGate({
    chain,
    transport: http(config.rpcUrl),
    escrow: config.escrow,
    currency: config.token,
    account: privateKeyToAccount(config.sellerKey),
    store,
    secret: config.secret,
    chargeMode: config.chargeMode,
  });
  await gate.recover();
  const route = gate.session({ amount: BigInt(config.price), unitType: "request", suggestedDeposit: 1_000_000n * BigInt(config.price) });

  const body = JSON.stringify({ answer: 42, text: "a small JSON answer, the same for the paid and the unpaid route" });
  const handler = () => new Response(body, { headers: { "content-type": "application/json" } });

  const server = createServer(
    toNodeHandler((request) => {
      const path = request.url.slice(request.url.indexOf("/", 8));
      if (path === "/unpaid") return handler();
      if (path === "/paid") return route.handle(request, handler);
      return new Response("not found", { status: 404 });
    }),
  );
  server.keepAliveTimeout = 30_000;
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as { port: number }).port;
    // Workers of a cluster all get the same port; the primary reports it.
    if (cluster.isWorker) process.send!({ port });
    else process.stdout.write(`${JSON.stringify({ port })}\n`);
  });

  // A clean exit on SIGTERM, so that --cpu-prof writes its profile.
  process.on("SIGTERM", () => {
    server.close();
    server.closeAllConnections();
    void store.close().finally(() => process.exit(0));
  });
}
