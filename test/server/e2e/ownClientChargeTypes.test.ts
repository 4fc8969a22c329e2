// Issue 9: tollgate's paying client buys from a tollgate gate with each charge credential type it can
// make, picking the first the challenge lists that its wallet can pay; its caps hold before anything is
// signed or sent. The gate resolves a pending transaction payment a dead process left from its receipt.
import assert from "node:assert/strict";
import { type Address, type Hex, http, isAddressEqual } from "viem";
import { createPayingFetch, type PayingFetchParameters } from "../../../sdk/src/client/index.js";
import { PaymentCapError } from "../../../sdk/src/errors/PaymentCapError.js";
import type { ChargeCredentialType } from "../../../sdk/src/protocol/charge.js";
import { charge, createSettlementService, type PaymentRecord, type SettlementEvent } from "../../../sdk/src/server/index.js";
import { buyTwice, PRICE, startOneTimeGate } from "./oneTimeFixture.js";
import { makeGate, sellerChain, sqliteStore } from "./helpers.js";
import { sendTransfer, signTransfer } from "./transferFixture.js";

/** An escrow this client does not trust: it refuses the session and pays one request at a time. */
const UNTRUSTED_ESCROW = "0x00000000000000000000000000000000000000e5" as Address;

describe("tollgate's client and gate, charge credential types", function () {
  this.timeout(120_000);
  const suite = sellerChain();

  function payingFetch(overrides: Partial<PayingFetchParameters> = {}) {
    return createPayingFetch({
      account: suite.payer.account,
      chain: suite.chain.chain,
      transport: http(suite.chain.rpcUrl),
      maxDeposit: 10n * PRICE,
      escrows: [UNTRUSTED_ESCROW],
      currencies: [suite.chain.token],
      ...overrides,
    });
  }

  const cases: { name: string; offered: ChargeCredentialType[]; paid: ChargeCredentialType; account?: PayingFetchParameters["account"] }[] = [
    { name: "test_ownClientChargeTypes_localAccountPaysWithTheFirstOfferedType_transaction", offered: ["transaction", "authorization"], paid: "transaction" },
    { name: "test_ownClientChargeTypes_localAccountPaysWithTheFirstOfferedType_hash", offered: ["hash", "transaction"], paid: "hash" },
    { name: "test_ownClientChargeTypes_localAccountPaysWithTheFirstOfferedType_authorization", offered: ["authorization", "transaction"], paid: "authorization" },
  ];
  for (const { name, offered, paid } of cases) {
    it(name, async () => {
      const { url, store, served } = await startOneTimeGate(suite, [charge({ credentialTypes: offered })]);
      const pay = payingFetch();
      await buyTwice(suite, pay, url, served);
      const settled = await store.listPayments({ status: "settled" });
      assert.deepEqual(settled.map((payment) => payment.credential), [paid, paid]);
      assert.ok(settled.every((payment) => isAddressEqual(payment.payer, suite.payer.address)));
      const records = await pay.payments();
      assert.deepEqual(records.map((payment) => payment.credential), [paid, paid]);
      // The gate's replay token is what the client signed or sent: the nonce, the transaction's hash.
      const clientTokens = records.map((payment) => (paid === "hash" ? payment.transaction! : payment.nonce).toLowerCase());
      assert.deepEqual(new Set(clientTokens), new Set(settled.map((payment) => payment.nonce.toLowerCase())));
      if (paid !== "authorization") assert.ok(settled.every((payment) => payment.nonce === payment.txHash), "the transfer is the settlement");
      assert.equal(await pay.totalSpent(), 2n * PRICE);
    });
  }

  it("test_ownClientChargeTypes_aJsonRpcWalletCannotSignATransactionAndPaysWithHash", async () => {
    const { url, store } = await startOneTimeGate(suite, [charge({ credentialTypes: ["transaction", "hash"] })]);
    // Hardhat's node holds this account unlocked: it sends transactions, it does not hand them over signed.
    const pay = payingFetch({ account: { type: "json-rpc", address: suite.payer.address } });
    const response = await pay(url);
    assert.equal(response.status, 200, await response.clone().text());
    assert.deepEqual((await store.listPayments()).map((payment) => [payment.credential, payment.status]), [["hash", "settled"]]);
    assert.deepEqual((await pay.payments()).map((payment) => payment.credential), ["hash"]);
  });

  for (const type of ["transaction", "hash"] as const) {
    it(`test_ownClientChargeTypes_${type}_capsHoldBeforeAnythingIsSignedOrSent`, async () => {
      const { url, store, served } = await startOneTimeGate(suite, [charge({ credentialTypes: [type] })]);
      const nonce = await suite.chain.publicClient.getTransactionCount({ address: suite.payer.address });
      // Above the price cap, no offer is payable (the session's escrow is not trusted either): a cap error, nothing sent.
      const capped = payingFetch({ maxPricePerUnit: PRICE - 1n });
      await assert.rejects(capped(url), PaymentCapError);
      assert.deepEqual(await capped.payments(), []);
      assert.equal(await suite.chain.publicClient.getTransactionCount({ address: suite.payer.address }), nonce);
      const budgeted = payingFetch({ totalBudget: PRICE });
      assert.equal((await budgeted(url)).status, 200);
      const afterOne = await suite.chain.publicClient.getTransactionCount({ address: suite.payer.address });
      await assert.rejects(budgeted(url), (error: unknown) => error instanceof PaymentCapError && error.cap === "totalBudget");
      assert.equal(await suite.chain.publicClient.getTransactionCount({ address: suite.payer.address }), afterOne, "the refused payment sent nothing");
      assert.equal(afterOne, nonce + 1, "one transfer, the paid one");
      assert.equal(served.count, 1);
      assert.equal((await store.listPayments()).length, 1);
    });
  }

  it("test_ownClientChargeTypes_pendingTransactionAndHashPaymentsAreResolvedFromTheirReceipts", async () => {
    const { store } = sqliteStore();
    suite.stores.push(store);
    const now = Date.now();
    const gate = makeGate(suite.chain, store, { now: () => now });
    await gate.ready();
    // What a process that died between recording and answering leaves: pending records keyed by transaction hash.
    const mined = await sendTransfer(suite.chain, suite.payer.account, { to: suite.seller, amount: PRICE });
    const reverted = await sendTransfer(suite.chain, suite.payer.account, { to: suite.seller, amount: 10n ** 30n });
    const presented = await sendTransfer(suite.chain, suite.payer.account, { to: suite.seller, amount: PRICE });
    const { hash: unsent } = await signTransfer(suite.chain, suite.payer.account, { to: suite.seller, amount: PRICE });
    const pending = (nonce: Hex, credential: PaymentRecord["credential"]): PaymentRecord => ({
      chainId: suite.chain.chain.id,
      token: suite.chain.token,
      payer: suite.payer.address,
      nonce,
      payee: suite.seller,
      method: "charge",
      credential,
      amount: PRICE,
      units: 1n,
      status: "pending",
      txHash: null,
      createdAt: now - 20 * 60_000,
      updatedAt: now - 20 * 60_000,
    });
    for (const [nonce, credential] of [[mined, "transaction"], [reverted, "transaction"], [unsent, "transaction"], [presented, "hash"]] as const) {
      assert.equal(await gate.store.insertPayment(pending(nonce, credential)), true);
    }
    const events: SettlementEvent[] = [];
    await createSettlementService({ gate, pendingPaymentAge: 15 * 60_000, onEvent: (event) => events.push(event) }).runOnce();
    const recovered = events.flatMap((event) => (event.type === "payment-recovered" ? [[event.payment.nonce, event.payment.status, event.payment.txHash]] : []));
    assert.deepEqual(
      new Set(recovered.map((entry) => JSON.stringify(entry))),
      new Set([[mined, "settled", mined], [reverted, "failed", reverted], [unsent, "released", null], [presented, "settled", presented]].map((entry) => JSON.stringify(entry))),
    );
    assert.deepEqual(await gate.store.listPayments({ status: "pending" }), []);
  });
});
