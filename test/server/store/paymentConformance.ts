import assert from "node:assert/strict";
import { type Address, getAddress, type Hex } from "viem";
import { scopeStore } from "../../../sdk/src/server/scopedStore.js";
import { type PaymentRecord, type SessionStore, StoreError } from "../../../sdk/src/server/store/index.js";
import { makeCharge, MAX_UINT128, newChannelId, PAYEE_A, PAYEE_B, PAYER_A, PAYER_B } from "./storeFixtures.js";
import type { StoreHarness } from "./storeConformance.js";

const TOKEN = "0x3333333333333333333333333333333333333333";

export function makePayment(overrides: Partial<PaymentRecord> = {}): PaymentRecord {
  return {
    chainId: 31337,
    token: TOKEN,
    payer: PAYER_A,
    nonce: newChannelId(),
    payee: PAYEE_A,
    method: "x402",
    amount: 10_000n,
    units: 1n,
    status: "pending",
    txHash: null,
    createdAt: 1_000,
    updatedAt: 1_000,
    ...overrides,
  };
}

/**
 * After a schema-3 database (a committed charge "old" of 7 and `oldPayment`, settled, of 9, neither with a
 * route) migrated to schema 4: both read back unchanged, and usage files them under route "unknown".
 */
export async function assertSchema3RecordsReadable(store: SessionStore, { channelId, payer, oldPayment }: { channelId: Hex; payer: Address; oldPayment: PaymentRecord }) {
  assert.deepEqual(await store.listCharges({ status: "committed", channelId }), [makeCharge(channelId, "old", { amount: 7n, status: "committed", createdAt: 5, updatedAt: 6 })]);
  assert.deepEqual(await store.listPayments(), [oldPayment]);
  const labelled = makeCharge(channelId, "new", { amount: 2n, status: "committed", createdAt: 9, route: "photos", unitType: "photo" });
  await store.withChannel(channelId, (tx) => tx.putCharge(labelled));
  assert.deepEqual(await store.usage({ period: "month" }), [
    { payer, period: "1970-01-01T00:00:00.000Z", route: "photos", unitType: "photo", amount: 2n, units: 1n, charges: 1, payments: 0 },
    { payer, period: "1970-01-01T00:00:00.000Z", route: "unknown", unitType: "request", amount: 16n, units: 2n, charges: 1, payments: 1 },
  ]);
  // Schema 5 on top: the other credential types and a served payment whose settlement is deferred.
  const deferred = makePayment({ payer, credential: "hash", status: "accepted", createdAt: 10, updatedAt: 10 });
  assert.equal(await store.insertPayment(deferred), true);
  assert.deepEqual(await store.listPayments({ status: "accepted" }), [deferred]);
}

/** The one-time payments every SessionStore must keep: recorded once per authorization, durably. */
export function describePaymentConformance(name: string, harness: StoreHarness): void {
  describe(`SessionStore payments: ${name}`, function () {
    let store: SessionStore;
    beforeEach(async () => {
      store = await harness.create();
    });
    afterEach(async () => {
      await store.close();
      await harness.dispose?.(store);
    });

    it("test_store_acceptedPaymentKeepsItsSignedAuthorization", async () => {
      const signedAuthorization = { validAfter: 0n, validBefore: MAX_UINT128, signature: `0x${"cd".repeat(65)}` as const };
      const accepted = makePayment({ status: "accepted", signedAuthorization });
      assert.equal(await store.insertPayment(accepted), true);
      assert.deepEqual(await store.listPayments({ status: "accepted" }), [accepted]);
    });

    it("test_store_paymentRoundTripsEveryField", async () => {
      const payment = makePayment({ amount: MAX_UINT128, units: 3n, method: "charge", credential: "transaction", chainId: 2 ** 32 + 7, route: "photos", unitType: "photo" });
      assert.equal(await store.insertPayment(payment), true);
      assert.deepEqual(await store.listPayments(), [payment]);
      const settled = { ...payment, status: "settled" as const, txHash: `0x${"ab".repeat(32)}` as const, updatedAt: 2_000 };
      await store.updatePayment(settled);
      assert.deepEqual(await store.listPayments(), [settled]);
      // Without a route (as stored before schema 4), none is read back.
      const bare = makePayment();
      await store.insertPayment(bare);
      assert.equal("route" in (await store.listPayments({ status: "pending" }))[0]!, false);
    });

    it("test_store_paymentNonceIsRecordedOnceWhateverItsCaseOrStatus", async () => {
      const payment = makePayment();
      assert.equal(await store.insertPayment(payment), true);
      // The same authorization, spelled in another case and claiming another status: refused, nothing written.
      const again = { ...payment, payer: payment.payer.toLowerCase() as typeof payment.payer, nonce: payment.nonce.toUpperCase().replace("0X", "0x") as typeof payment.nonce, status: "settled" as const, amount: 1n };
      assert.equal(await store.insertPayment(again), false);
      assert.deepEqual(await store.listPayments(), [payment]);
      // Another payer, token or chain with the same nonce is another payment.
      assert.equal(await store.insertPayment({ ...payment, payer: PAYER_B }), true);
      assert.equal(await store.insertPayment({ ...payment, token: getAddress(PAYEE_B) }), true);
      assert.equal(await store.insertPayment({ ...payment, chainId: 1 }), true);
      assert.equal((await store.listPayments()).length, 4);
    });

    it("test_store_tenConcurrentInsertsOfOnePaymentRecordOne", async () => {
      const payment = makePayment();
      const results = await Promise.all(Array.from({ length: 10 }, () => store.insertPayment(payment)));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal((await store.listPayments()).length, 1);
    });

    it("test_store_listPaymentsFiltersByStatusPayerAndAge", async () => {
      const old = makePayment({ status: "pending", createdAt: 1, updatedAt: 1 });
      const fresh = makePayment({ status: "pending", payer: PAYER_B, createdAt: 5, updatedAt: 5 });
      const settled = makePayment({ status: "settled", createdAt: 3, updatedAt: 3, txHash: `0x${"cd".repeat(32)}` });
      for (const payment of [fresh, settled, old]) await store.insertPayment(payment);
      assert.deepEqual(await store.listPayments(), [old, settled, fresh]);
      assert.deepEqual(await store.listPayments({ status: "pending" }), [old, fresh]);
      assert.deepEqual(await store.listPayments({ status: "pending", updatedBefore: 5 }), [old]);
      assert.deepEqual(await store.listPayments({ payer: PAYER_B }), [fresh]);
    });

    it("test_store_scopedStoreHidesAndRefusesAnotherGatesPayments", async () => {
      const scoped = scopeStore({ store, scope: { chainId: 31337, escrow: PAYEE_B, token: TOKEN, payee: PAYEE_A } });
      const own = makePayment();
      const foreign = makePayment({ payee: PAYEE_B });
      assert.equal(await store.insertPayment(foreign), true);
      assert.equal(await scoped.insertPayment(own), true);
      assert.deepEqual(await scoped.listPayments(), [own]);
      await assert.rejects(scoped.insertPayment(makePayment({ payee: PAYEE_B })), (error: unknown) => error instanceof StoreError && error.reason === "foreign-record");
      await assert.rejects(scoped.updatePayment({ ...foreign, status: "settled" }), (error: unknown) => error instanceof StoreError && error.reason === "foreign-record");
      assert.equal((await store.listPayments({ status: "settled" })).length, 0);
    });
  });
}
