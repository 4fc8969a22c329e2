// Deferred settlement of one-time payments (x402 `exact`, EIP-3009): the response leaves once the payment
// is durably `accepted`, the settlement service settles accepted payments in Multicall3 batches, and the
// credit this extends is bounded (the payer's balance covers everything accepted, an optional cap per
// payer) against a hostile buyer. The real @x402/fetch client buys; the chain is the local one.
import assert from "node:assert/strict";
import { x402Client } from "@x402/core/client";
import { decodePaymentResponseHeader } from "@x402/core/http";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import { type Address, createWalletClient, http, type LocalAccount } from "viem";
import { encodeX402Header, formatX402PaymentPayload } from "../../../sdk/src/protocol/x402.js";
import { Mppx } from "mppx/client";
import { charge as mppxCharge } from "mppx/evm/client";
import { ConfigurationError } from "../../../sdk/src/errors/ConfigurationError.js";
import { charge, createSettlementService, type GateMethodFactory, type SettlementEvent, type SettlementServiceParameters, x402, type X402Parameters } from "../../../sdk/src/server/index.js";
import type { SessionStore } from "../../../sdk/src/server/store/SessionStore.js";
import { createSqliteStore } from "../../../sdk/src/server/sqlite.js";
import { transferWithAuthorization } from "../../../sdk/src/transactions/transferWithAuthorization.js";
import { deployMulticall3, fundExactly, transfer } from "./deferredFixture.js";
import { makeGate, sellerChain, sqliteStore, startServer } from "./helpers.js";
import { authorizationSigner, PRICE } from "./oneTimeFixture.js";

describe("deferred settlement of one-time payments", function () {
  this.timeout(120_000);
  const suite = sellerChain();
  let multicall3: Address;

  before(async function () {
    multicall3 = await deployMulticall3(suite.chain);
  });

  /** A gate selling x402 with deferred settlement on `store`, behind a server; and its settlement service. */
  async function startDeferredGate({ store, deferred = {}, service = {}, methods, ...x402Options }: { store: SessionStore; deferred?: { maxPerPayer?: bigint }; service?: Partial<SettlementServiceParameters>; methods?: GateMethodFactory[] } & X402Parameters) {
    suite.stores.push(store);
    const gate = makeGate(suite.chain, store, { methods: methods ?? [x402({ maxTimeoutSeconds: 600, deferredSettlement: { multicall3, ...deferred }, ...x402Options })] });
    const route = gate.session({ amount: PRICE, description: "one photo" });
    const served = { count: 0 };
    const server = await startServer((request) =>
      route.handle(request, async () => {
        served.count++;
        return Response.json({ photo: "ok" });
      }),
    );
    suite.servers.push(server);
    const events: SettlementEvent[] = [];
    const settlement = createSettlementService({ gate, multicall3, paymentBatchSize: 100, onEvent: (event) => events.push(event), ...service });
    return { gate, url: `${server.url}/photo`, served, settlement, events };
  }

  function x402Fetch(account: LocalAccount) {
    const client = x402Client.fromConfig({
      schemes: [{ network: "eip155:*", client: new ExactEvmScheme(account) }],
      spendControls: { allowedAssets: [{ network: `eip155:${suite.chain.chain.id}`, asset: suite.chain.token, maxAmountPerPayment: "100000" }] },
    });
    return wrapFetchWithPayment(fetch, client);
  }

  /** `count` v2 `PAYMENT-SIGNATURE` headers from `account`, each a fresh authorization of the price. */
  async function paymentHeaders(account: LocalAccount, count: number) {
    const sign = await authorizationSigner(suite.chain, account);
    const network = `eip155:${suite.chain.chain.id}`;
    const accepted = { scheme: "exact", network, amount: PRICE, asset: suite.chain.token, payTo: suite.seller };
    return Promise.all(
      Array.from({ length: count }, async () => {
        const { authorization, signature } = await sign({ to: suite.seller, value: PRICE, validBefore: BigInt(Math.floor(Date.now() / 1000) + 600) });
        return encodeX402Header(formatX402PaymentPayload({ x402Version: 2, scheme: "exact", network, accepted: accepted as never, authorization, signature }));
      }),
    );
  }

  const sellerNonce = () => suite.chain.publicClient.getTransactionCount({ address: suite.seller });

  it("test_deferred_x402ClientIsServedBeforeSettlementAndOneBatchSettlesEveryPayment", async () => {
    const { store } = sqliteStore();
    const { url, settlement, events } = await startDeferredGate({ store });
    const buyer = suite.chain.account(3);
    await fundExactly(suite.chain, buyer, 10n * PRICE);
    const before = await suite.chain.balanceOf(suite.seller);
    const nonceBefore = await sellerNonce();
    const pay = x402Fetch(buyer);
    for (let i = 0; i < 3; i++) {
      const response = await pay(url);
      assert.equal(response.status, 200, await response.clone().text());
      assert.deepEqual(await response.json(), { photo: "ok" });
      // Nothing is mined yet: x402's settlement response names a transaction, so none is sent.
      assert.equal(response.headers.get("payment-response"), null);
    }
    assert.equal(await suite.chain.balanceOf(suite.seller), before, "no transfer before the batch");
    assert.equal(await sellerNonce(), nonceBefore, "no transaction waited for");
    const accepted = await store.listPayments({ status: "accepted" });
    assert.equal(accepted.length, 3);
    assert.ok(accepted.every((payment) => payment.signedAuthorization !== undefined));

    // Below the batch size and younger than maxDelay: not due yet.
    await settlement.runOnce();
    assert.equal((await store.listPayments({ status: "accepted" })).length, 3);
    await settlement.settleAll();
    const settled = await store.listPayments({ status: "settled" });
    assert.equal(settled.length, 3);
    assert.equal(new Set(settled.map((payment) => payment.txHash)).size, 1, "one transaction for all three");
    assert.equal(await sellerNonce(), nonceBefore + 1);
    assert.equal(await suite.chain.balanceOf(suite.seller), before + 3n * PRICE);
    const batch = events.find((event) => event.type === "payments-settled");
    assert.equal(batch?.type === "payments-settled" && batch.txHash, settled[0]!.txHash);
  });

  it("test_deferred_mppxChargeIsServedWithoutAReceiptAndSettledByTheBatch", async () => {
    const { store } = sqliteStore();
    const { url, settlement } = await startDeferredGate({ store, methods: [charge({ decimals: 6, deferredSettlement: { multicall3 } })] });
    const buyer = suite.chain.account(3);
    await fundExactly(suite.chain, buyer, 10n * PRICE);
    const before = await suite.chain.balanceOf(suite.seller);
    const mppx = Mppx.create({ polyfill: false, methods: [mppxCharge({ account: buyer, authorization: { name: "Mock USD Coin", version: "1" } })] });
    const response = await mppx.fetch(url);
    assert.equal(response.status, 200, await response.clone().text());
    assert.deepEqual(await response.json(), { photo: "ok" });
    // The charge draft issues a Payment-Receipt only for a mined transaction.
    assert.equal(response.headers.get("payment-receipt"), null);
    assert.deepEqual((await store.listPayments()).map((payment) => [payment.method, payment.status]), [["charge", "accepted"]]);
    await settlement.settleAll();
    assert.deepEqual((await store.listPayments()).map((payment) => payment.status), ["settled"]);
    assert.equal(await suite.chain.balanceOf(suite.seller), before + PRICE);
  });

  it("test_deferred_misconfigurationIsAConfigurationErrorAtCreation", async () => {
    const facilitator = { url: "http://127.0.0.1:1" };
    assert.throws(() => x402({ facilitator, deferredSettlement: { multicall3 } }), (error: unknown) => error instanceof ConfigurationError && error.option === "deferredSettlement");
    // The local chain's definition names no Multicall3: it must be given.
    assert.throws(
      () => makeGate(suite.chain, sqliteStore().store, { methods: [x402({ deferredSettlement: {} })] }),
      (error: unknown) => error instanceof ConfigurationError && error.option === "multicall3",
    );
  });

  it("test_deferred_fullBatchIsDueAtOnce", async () => {
    const { store } = sqliteStore();
    const { url, settlement } = await startDeferredGate({ store, service: { paymentBatchSize: 2 } });
    const buyer = suite.chain.account(3);
    await fundExactly(suite.chain, buyer, 10n * PRICE);
    for (const header of await paymentHeaders(buyer, 2)) assert.equal((await fetch(url, { headers: { "payment-signature": header } })).status, 200);
    await settlement.runOnce();
    assert.equal((await store.listPayments({ status: "settled" })).length, 2);
  });

  it("test_deferred_authorizationExpiringTooSoonIsSettledBeforeTheResponse", async () => {
    const { store } = sqliteStore();
    // x402's default window (60 s) is below minValidity (300 s): deferral would risk the authorization.
    const { url } = await startDeferredGate({ store, maxTimeoutSeconds: 60 });
    const buyer = suite.chain.account(3);
    await fundExactly(suite.chain, buyer, 10n * PRICE);
    const response = await x402Fetch(buyer)(url);
    assert.equal(response.status, 200);
    const receipt = decodePaymentResponseHeader(response.headers.get("payment-response")!);
    assert.equal(receipt.success, true);
    const [payment] = await store.listPayments();
    assert.equal(payment?.status, "settled");
    assert.equal(payment?.txHash, receipt.transaction);
  });

  it("test_deferred_tenConcurrentPaymentsAgainstABalanceThatCoversThreeDeliverThreeAndLoseNothing", async () => {
    const { store } = sqliteStore();
    const { url } = await startDeferredGate({ store });
    const buyer = suite.chain.account(4);
    await fundExactly(suite.chain, buyer, 3n * PRICE);
    const before = await suite.chain.balanceOf(suite.seller);
    const headers = await paymentHeaders(buyer, 10);
    const responses = await Promise.all(headers.map((header) => fetch(url, { headers: { "payment-signature": header } })));
    const statuses = responses.map((response) => response.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 402, 402, 402, 402, 402, 402, 402]);
    // The fourth admission found the balance short: it settled the three accepted ones with itself, before
    // answering; every later one failed to settle (or was refused at verification). Nothing is owed.
    assert.equal(await suite.chain.balanceOf(suite.seller), before + 3n * PRICE);
    assert.equal(await suite.chain.balanceOf(buyer.address), 0n);
    assert.deepEqual(await store.listPayments({ status: "accepted" }), []);
    assert.equal((await store.listPayments({ status: "settled" })).length, 3);
  });

  it("test_deferred_payerWhoDrainsAfterBeingServedFailsOnlyTheUncoveredPayment", async () => {
    const { store } = sqliteStore();
    const { url, settlement } = await startDeferredGate({ store });
    const buyer = suite.chain.account(5);
    await fundExactly(suite.chain, buyer, 3n * PRICE);
    const before = await suite.chain.balanceOf(suite.seller);
    for (const header of await paymentHeaders(buyer, 3)) assert.equal((await fetch(url, { headers: { "payment-signature": header } })).status, 200);
    await transfer(suite.chain, buyer, suite.chain.account(9).address, PRICE);
    await settlement.settleAll();
    const payments = await store.listPayments();
    assert.deepEqual(payments.map((payment) => payment.status), ["settled", "settled", "failed"]);
    assert.equal(payments[0]!.txHash, payments[1]!.txHash);
    assert.equal(await suite.chain.balanceOf(suite.seller), before + 2n * PRICE, "the loss is the one payment the payer's balance no longer covered");
  });

  it("test_deferred_payerWhoSpendsTheNonceElsewhereFailsThatPayment", async () => {
    const { store } = sqliteStore();
    const { url, settlement } = await startDeferredGate({ store });
    const buyer = suite.chain.account(5);
    await fundExactly(suite.chain, buyer, 3n * PRICE);
    const [header] = await paymentHeaders(buyer, 1);
    assert.equal((await fetch(url, { headers: { "payment-signature": header! } })).status, 200);
    const [accepted] = await store.listPayments({ status: "accepted" });
    // Same nonce, another recipient: the token uses it up, the seller's authorization can never settle.
    const sign = await authorizationSigner(suite.chain, buyer);
    const elsewhere = await sign({ to: suite.chain.account(9).address, value: 1n, nonce: accepted!.nonce });
    const wallet = createWalletClient({ chain: suite.chain.chain, transport: http(suite.chain.rpcUrl), account: buyer });
    await transferWithAuthorization({ client: wallet, token: suite.chain.token, ...elsewhere });
    const before = await suite.chain.balanceOf(suite.seller);
    await settlement.settleAll();
    const [payment] = await store.listPayments();
    assert.equal(payment?.status, "failed");
    assert.equal(await suite.chain.balanceOf(suite.seller), before);
  });

  it("test_deferred_capPerPayerFallsBackToSettlingBeforeTheResponse", async () => {
    const { store } = sqliteStore();
    const { url } = await startDeferredGate({ store, deferred: { maxPerPayer: 2n * PRICE } });
    const buyer = suite.chain.account(6);
    await fundExactly(suite.chain, buyer, 10n * PRICE);
    const responses = [];
    for (const header of await paymentHeaders(buyer, 3)) responses.push(await fetch(url, { headers: { "payment-signature": header } }));
    assert.deepEqual(responses.map((response) => response.status), [200, 200, 200]);
    assert.equal(responses[1]!.headers.get("payment-response"), null, "within the cap: accepted");
    const receipt = decodePaymentResponseHeader(responses[2]!.headers.get("payment-response")!);
    const payments = await store.listPayments();
    assert.deepEqual(payments.map((payment) => payment.status), ["settled", "settled", "settled"], "over the cap: settled now, with the payer's accepted ones");
    assert.ok(payments.every((payment) => payment.txHash === receipt.transaction));
  });

  it("test_deferred_crashBetweenSendingAndRecordingSettlesNothingTwiceAndLosesNothing", async () => {
    const { store, path } = sqliteStore();
    const { url, settlement, events } = await startDeferredGate({ store });
    const buyer = suite.chain.account(7);
    await fundExactly(suite.chain, buyer, 10n * PRICE);
    for (const header of await paymentHeaders(buyer, 3)) assert.equal((await fetch(url, { headers: { "payment-signature": header } })).status, 200);
    const before = await suite.chain.balanceOf(suite.seller);
    // The process dies once the batch is mined, before any outcome is recorded: the store refuses the writes.
    const updatePayment = store.updatePayment.bind(store);
    store.updatePayment = async () => {
      throw new Error("crashed");
    };
    await settlement.settleAll();
    store.updatePayment = updatePayment;
    assert.ok(events.some((event) => event.type === "error" && event.action === "settle-payments"));
    assert.equal(await suite.chain.balanceOf(suite.seller), before + 3n * PRICE, "the batch was mined");
    assert.equal((await store.listPayments({ status: "accepted" })).length, 3, "nothing recorded");
    const nonceAfterCrash = await sellerNonce();

    // Restart: another store on the same file, another gate and service.
    const restarted = await startDeferredGate({ store: createSqliteStore({ path }) });
    await restarted.settlement.settleAll();
    const payments = await restarted.gate.store.listPayments();
    assert.deepEqual(payments.map((payment) => payment.status), ["settled", "settled", "settled"]);
    const crashedBatch = events.find((event) => event.type === "payments-settled");
    assert.equal(crashedBatch, undefined);
    assert.equal(new Set(payments.map((payment) => payment.txHash)).size, 1, "recorded with the batch found from its logs");
    assert.equal(await sellerNonce(), nonceAfterCrash, "no second transaction");
    assert.equal(await suite.chain.balanceOf(suite.seller), before + 3n * PRICE, "transferred once");
  });
});

