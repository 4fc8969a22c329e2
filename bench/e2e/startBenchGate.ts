// The seller of the bench: one gate offering the session, MPP `evm` charge and x402 `exact` (SQLite
// store, node:http on 127.0.0.1), with one route per suggested deposit; every route sells all three.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { join } from "node:path";
import { http } from "viem";
import type { LocalChain } from "../../scripts/localChain.js";
import { charge, createPaymentGate, type PaymentGateParameters, x402 } from "../../sdk/src/server/index.js";
import { toNodeHandler } from "../../sdk/src/server/node.js";
import { createSqliteStore } from "../../sdk/src/server/sqlite.js";

/** Seconds; more than the blocks a whole bench run mines. */
const AUTHORIZATION_WINDOW = 3_600;

export type StartBenchGateParameters = {
  chain: LocalChain;
  /** Test account index of the seller. */
  seller: number;
  price: bigint;
  /** One route per entry, `/api/paid/<index>`, each suggesting this deposit to session buyers. */
  suggestedDeposits: bigint[];
  /** More gate options (fee paying, polling). */
  gate?: Partial<PaymentGateParameters>;
};

export type StartBenchGateReturnType = {
  /** The URL of each route, in the order of `suggestedDeposits`. */
  urls: string[];
  stop: () => Promise<void>;
};

export async function startBenchGate({ chain, seller, price, suggestedDeposits, gate: options = {} }: StartBenchGateParameters): Promise<StartBenchGateReturnType> {
  const directory = mkdtempSync(join(os.tmpdir(), "tollgate-bench-e2e-"));
  const store = createSqliteStore({ path: join(directory, "gate.db") });
  const gate = createPaymentGate({
    chain: chain.chain,
    transport: http(chain.rpcUrl),
    escrow: chain.escrow,
    currency: chain.token,
    account: chain.account(seller),
    store,
    secret: crypto.randomUUID() + crypto.randomUUID(),
    // hardhat node gives every automined block a timestamp one second past the last at least, so N
    // one-time payments put the chain up to N seconds ahead of the wall clock; the windows the buyers
    // sign (mppx: the challenge's expiry; x402: maxTimeoutSeconds) are widened to outlast the whole run.
    challengeTtl: AUTHORIZATION_WINDOW,
    methods: [charge({ decimals: 6 }), x402({ maxTimeoutSeconds: AUTHORIZATION_WINDOW })],
    ...options,
  });
  const routes = suggestedDeposits.map((suggestedDeposit) => gate.session({ amount: price, unitType: "request", suggestedDeposit }));
  const server = createServer(
    toNodeHandler((request) => {
      const route = routes[Number(new URL(request.url).pathname.split("/").at(-1))];
      return route ? route.handle(request, () => Response.json({ ok: true })) : new Response(null, { status: 404 });
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    urls: routes.map((_, index) => `${origin}/api/paid/${index}`),
    async stop() {
      server.closeAllConnections();
      server.close();
      await store.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
