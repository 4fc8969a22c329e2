// Issue 9: the settlement service resolves one-time payments a dead process left `pending`, from the
// chain, once they are older than `pendingPaymentAge` (a younger one may be a request still being
// served and is left alone). The kill -9 version of the same rule is in crashRestart.test.ts.
import assert from "node:assert/strict";
import { createSettlementService, type PaymentRecord, type SettlementEvent } from "../../../sdk/src/server/index.js";
import { makeGate, randomBytes32, sellerChain, sqliteStore } from "./helpers.js";

const MINUTE = 60_000;

describe("server e2e: pending one-time payments resolved by the settlement service", function () {
  this.timeout(60_000);
  const suite = sellerChain();

  it("test_pendingPayments_settlementServiceReleasesAStaleUnusedOneAndLeavesAFreshOne", async function () {
    const { store } = sqliteStore();
    suite.stores.push(store);
    let now = Date.now();
    const gate = makeGate(suite.chain, store, { now: () => now });
    await gate.ready();
    const pending = (createdAt: number): PaymentRecord => ({
      chainId: suite.chain.chain.id,
      token: suite.chain.token,
      payer: suite.payer.address,
      nonce: randomBytes32(),
      payee: suite.seller,
      method: "x402",
      amount: 10_000n,
      units: 1n,
      status: "pending",
      txHash: null,
      createdAt,
      updatedAt: createdAt,
    });
    const stale = pending(now - 20 * MINUTE);
    const fresh = pending(now - MINUTE);
    for (const payment of [stale, fresh]) assert.equal(await gate.store.insertPayment(payment), true);

    const events: SettlementEvent[] = [];
    const service = createSettlementService({ gate, pendingPaymentAge: 15 * MINUTE, onEvent: (event) => events.push(event) });
    await service.runOnce();
    const recovered = events.filter((event) => event.type === "payment-recovered");
    assert.deepEqual(
      recovered.map((event) => [event.payment.nonce, event.payment.status, event.payment.txHash]),
      [[stale.nonce, "released", null]],
      "the stale unused authorization is released; the fresh one is a request in flight",
    );
    assert.deepEqual((await gate.store.listPayments({ status: "pending" })).map((payment) => payment.nonce), [fresh.nonce]);

    now += 15 * MINUTE;
    await service.runOnce();
    assert.deepEqual(await gate.store.listPayments({ status: "pending" }), [], "once old enough, the other is resolved too");
    assert.equal(events.filter((event) => event.type === "error").length, 0);
  });
});
