// The paid server of the crash test (crashRestart.test.ts; SQLite or PostgreSQL), run as a child process that the test kills
// with SIGKILL: `node --import tsx crashServer.ts '<config json>'`. On start it recovers the store (stale
// reservations released, pending one-time payments resolved), then serves /work (a short paid request)
// and /hang (a paid request whose handler never answers, so its reservation or its one-time payment is
// held when the process dies). Mocha loads every file
// under test/, so the server only starts when this file is the process's entry point.
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { type Address, type Hex, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { loopbackChain } from "../../../scripts/loopbackChain.js";
import { openSessionStore, type StoreLocation } from "../../../scripts/openSessionStore.js";
import { createPaymentGate } from "../../../sdk/src/server/index.js";
import { toNodeHandler } from "../../../sdk/src/server/node.js";

export type CrashServerConfig = {
  rpcUrl: string;
  chainId: number;
  escrow: Address;
  token: Address;
  sellerKey: Hex;
  /** The store the server keeps its accounting in: a SQLite file, or a PostgreSQL schema. */
  store: StoreLocation;
  secret: string;
  price: string;
  /** Port to listen on; 0 (default) for any. */
  port?: number;
};

async function main(config: CrashServerConfig) {
  const chain = loopbackChain({ id: config.chainId, rpcUrl: config.rpcUrl });
  const store = await openSessionStore({ location: config.store });
  const gate = createPaymentGate({
    chain,
    transport: http(config.rpcUrl),
    escrow: config.escrow,
    currency: config.token,
    account: privateKeyToAccount(config.sellerKey),
    store,
    secret: config.secret,
  });
  // Before serving: whatever the previous process held for requests it never finished is given back.
  const released = await gate.recover();
  // One-time payments (charge, x402: offered by default) the previous process never settled, resolved from the chain.
  const recovered = await gate.recoverPayments();
  const route = gate.session({ amount: BigInt(config.price), suggestedDeposit: 1_000n * BigInt(config.price) });
  const server = createServer(
    toNodeHandler((request) =>
      route.handle(request, async () => {
        if (new URL(request.url).pathname === "/hang") await new Promise(() => {});
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
        return Response.json({ ok: true });
      }),
    ),
  );
  server.listen(config.port ?? 0, "127.0.0.1", () => {
    const { port } = server.address() as { port: number };
    process.stdout.write(`${JSON.stringify({ port, released: released.map((charge) => charge.key), recovered: recovered.map(({ nonce, status, txHash }) => ({ nonce, status, txHash })) })}\n`);
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(JSON.parse(process.argv[2] ?? "{}") as CrashServerConfig).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
