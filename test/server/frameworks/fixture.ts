// Shared set-up of the framework middleware tests: a local chain, a real gate on a SQLite store, and
// the real paying client buying over HTTP from a server the framework itself runs on a loopback port.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Address, type Hex, http } from "viem";
import { createPayingFetch, type PayingFetch } from "../../../sdk/src/client/index.js";
import { createPaymentGate, type Payment, type PaymentGate, type SessionRoute, type SessionStore } from "../../../sdk/src/server/index.js";
import { createSqliteStore } from "../../../sdk/src/server/sqlite.js";
import { type LocalChain, startLocalChain } from "../../../scripts/localChain.js";

export const PRICE = 10_000n;
const SECRET = "the framework tests' gate secret, 32+ bytes long";

export type Shop = { chain: LocalChain; gate: PaymentGate; store: SessionStore; route: SessionRoute; buyers: Address[] };

/** Registers hooks that start a chain and a gate with one route before the suite and stop them after. */
export function shop(): Shop {
  const suite = { buyers: [] as Address[] } as Shop;
  before(async function () {
    suite.chain = await startLocalChain();
    suite.store = createSqliteStore({ path: join(mkdtempSync(join(tmpdir(), "tollgate-frameworks-")), "gate.db") });
    suite.gate = createPaymentGate({
      chain: suite.chain.chain,
      transport: http(suite.chain.rpcUrl),
      escrow: suite.chain.escrow,
      currency: suite.chain.token,
      account: suite.chain.account(1),
      store: suite.store,
      secret: SECRET,
    });
    suite.route = suite.gate.session({ amount: PRICE, unitType: "request", suggestedDeposit: 100n * PRICE });
  });
  after(async function () {
    await suite.store?.close();
    await suite.chain?.stop();
  });
  return suite;
}

/** A buyer (a fresh funded test account of the suite's chain each call) paying with the real client. */
export async function buyer({ chain, buyers }: Shop): Promise<PayingFetch> {
  const account = chain.account(2 + buyers.length);
  buyers.push(account.address);
  await chain.mint(account.address, 10_000_000n);
  return createPayingFetch({ account, chain: chain.chain, transport: http(chain.rpcUrl), maxDeposit: 5_000_000n, escrows: [chain.escrow] });
}

/** Listens on a loopback port; resolves with the base URL and a stop function. */
export async function listen(server: Server): Promise<{ url: string; stop(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The channel a payment was served from: these routes take sessions only. */
export function channelOf(payment: Payment | undefined): Hex {
  assert.ok(payment?.method === "session", "a session payment");
  return payment.channelId;
}
