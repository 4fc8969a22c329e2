// Issue 9: the MPP `evm` charge intent's `transaction` and `hash` credentials on a tollgate gate, with
// credentials built by hand: each is served once (a replay, ten concurrent copies), a transfer that does
// not pay this challenge's terms is refused with nothing changed, and a handler's 5xx costs what the
// type says (a transaction is never broadcast; a hash paid before the request stays paid).
import assert from "node:assert/strict";
import { Mppx } from "mppx/client";
import { charge as mppxCharge } from "mppx/evm/client";
import { encodeFunctionData, erc20Abi, type Hex } from "viem";
import type { PaymentChallenge } from "../../../sdk/src/protocol/challenge.js";
import { parseReceipt } from "../../../sdk/src/protocol/receipt.js";
import { charge } from "../../../sdk/src/server/index.js";
import { fetchChargeChallenge, PRICE, startOneTimeGate } from "./oneTimeFixture.js";
import { sellerChain, snapshot } from "./helpers.js";
import { chargeCredential, deployOtherToken, sendTransfer, signTransfer } from "./transferFixture.js";

describe("MPP evm charge, transaction and hash credentials", function () {
  this.timeout(120_000);
  const suite = sellerChain();

  const transfer = (fields: Partial<Parameters<typeof signTransfer>[2]> = {}) => signTransfer(suite.chain, suite.payer.account, { to: suite.seller, amount: PRICE, ...fields });
  const paid = (fields: Partial<Parameters<typeof sendTransfer>[2]> = {}) => sendTransfer(suite.chain, suite.payer.account, { to: suite.seller, amount: PRICE, ...fields });

  it("test_chargeTypes_mppxPaysWithAuthorizationWhereverTheListPutsIt", async () => {
    // mppx 0.11's client pays `authorization` only, and does not hold the rest of the list against the
    // challenge (its zod enum guards its own server's requests): a wider list still sells to it.
    const { url, store, served } = await startOneTimeGate(suite, [charge({ credentialTypes: ["transaction", "hash", "authorization"] })]);
    const mppx = Mppx.create({ polyfill: false, methods: [mppxCharge({ account: suite.payer.account, authorization: { name: "Mock USD Coin", version: "1" } })] });
    const response = await mppx.fetch(url);
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(served.count, 1);
    assert.deepEqual((await store.listPayments()).map((payment) => [payment.credential, payment.status]), [["authorization", "settled"]]);
  });

  for (const type of ["transaction", "hash"] as const) {
    it(`test_chargeTypes_${type}_replayAndTenConcurrentCopiesAreServedOnce`, async () => {
      const { url, store, served } = await startOneTimeGate(suite, [charge({ credentialTypes: [type] })]);
      const challenge = await fetchChargeChallenge(url);
      const sellerBefore = await suite.chain.balanceOf(suite.seller);
      const payload = type === "transaction" ? { type, signature: (await transfer()).serialized } : { type, hash: await paid() };
      const authorization = chargeCredential(challenge, payload);
      const responses = await Promise.all(Array.from({ length: 10 }, () => fetch(url, { headers: { authorization } })));
      assert.deepEqual(responses.map((response) => response.status).sort(), [200, 402, 402, 402, 402, 402, 402, 402, 402, 402]);
      const ok = responses.find((response) => response.status === 200)!;
      const receipt = parseReceipt(ok.headers.get("payment-receipt")!);
      const replay = await fetch(url, { headers: { authorization } });
      assert.equal(replay.status, 402);
      assert.equal((await replay.json()).reason, "nonce-used");
      assert.equal(served.count, 1);
      assert.equal(await suite.chain.balanceOf(suite.seller), sellerBefore + PRICE, "one transfer");
      const [record] = await store.listPayments();
      assert.deepEqual([record?.credential, record?.status, record?.nonce, record?.txHash], [type, "settled", receipt.reference, receipt.reference]);
    });
  }

  it("test_chargeTypes_transactionCredentialsThatDoNotPayThisChallengeAreRefused", async () => {
    const { url, store, served } = await startOneTimeGate(suite, [charge({ credentialTypes: ["transaction"] })]);
    const challenge = await fetchChargeChallenge(url);
    const approve = encodeFunctionData({ abi: erc20Abi, functionName: "approve", args: [suite.seller, PRICE] });
    const baseFee = (await suite.chain.publicClient.getBlock()).baseFeePerGas!;
    const cases: [string, Promise<{ serialized: Hex }>, string][] = [
      ["a transaction for another chain", transfer({ chainId: 1 }), "wrong-chain"],
      ["approve instead of transfer", transfer({ data: approve }), "not-a-transfer"],
      ["another recipient", transfer({ to: suite.chain.account(7).address }), "wrong-recipient"],
      ["one unit short", transfer({ amount: PRICE - 1n }), "wrong-amount"],
      ["a fee below the base fee, never mined", transfer({ maxFeePerGas: baseFee - 1n }), "fee-too-low"],
      ["a gas limit the transfer cannot run in", transfer({ gas: 21_000n }), "gas-too-low"],
      ["an account nonce far ahead, never mined", transfer({ nonce: 1_000 }), "nonce-gap"],
      ["an account nonce already used", transfer({ nonce: 0 }), "nonce-used"],
      ["a payer without the tokens", signTransfer(suite.chain, suite.chain.account(8), { to: suite.seller, amount: PRICE }), "insufficient-balance"],
    ];
    const buyer = await suite.chain.balanceOf(suite.payer.address);
    await expectRefusals(url, challenge, cases.map(([name, signed, reason]) => [name, signed.then(({ serialized }) => ({ type: "transaction", signature: serialized })), reason]));
    assert.equal(served.count, 0);
    assert.deepEqual(await store.listPayments(), []);
    assert.deepEqual(await snapshot(store), { channels: [], charges: [] });
    assert.equal(await suite.chain.balanceOf(suite.payer.address), buyer, "nothing was broadcast");
  });

  it("test_chargeTypes_hashesThatDoNotPayThisChallengeAreRefused", async () => {
    const other = await deployOtherToken(suite.chain, suite.payer.address, 10n * PRICE);
    // Someone else's payment to the seller, made before the challenge existed.
    await suite.chain.mint(suite.chain.account(3).address, PRICE);
    const older = await sendTransfer(suite.chain, suite.chain.account(3), { to: suite.seller, amount: PRICE });
    const minedAt = (await suite.chain.publicClient.getBlock({ blockHash: (await suite.chain.publicClient.getTransactionReceipt({ hash: older })).blockHash })).timestamp;
    // The gate's clock at least a second past that block, however far the local chain's clock ran ahead.
    const skew = Math.max(0, (Number(minedAt) + 1) * 1000 - Date.now());
    const { url, store, served } = await startOneTimeGate(suite, [charge({ credentialTypes: ["hash"] })], undefined, { now: () => Date.now() + skew });
    const challenge = await fetchChargeChallenge(url);
    // One at a time: each transfer takes the payer's next account nonce.
    const cases: [string, Hex, string][] = [
      ["someone else's older transfer to the seller", older, "transfer-predates-challenge"],
      ["a transfer of another token", await paid({ token: other }), "transfer-mismatch"],
      ["one unit short", await paid({ amount: PRICE - 1n }), "transfer-mismatch"],
      ["another recipient", await paid({ to: suite.chain.account(7).address }), "transfer-mismatch"],
      ["a reverted transfer", await paid({ amount: 10n ** 30n }), "transaction-reverted"],
      ["a hash nothing was mined under", `0x${"ab".repeat(32)}`, "not-mined"],
    ];
    await expectRefusals(url, challenge, cases.map(([name, hash, reason]) => [name, Promise.resolve({ type: "hash", hash }), reason]));
    assert.equal(served.count, 0);
    assert.deepEqual(await store.listPayments(), []);
  });

  it("test_chargeTypes_aTypeTheChallengeDidNotOfferAndMalformedPayloadsAreRefused", async () => {
    const { url, store, served } = await startOneTimeGate(suite, [charge({ credentialTypes: ["transaction"] })]);
    const challenge = await fetchChargeChallenge(url);
    const cases: [string, Record<string, unknown>, number, string | undefined][] = [
      ["hash, not offered", { type: "hash", hash: `0x${"ab".repeat(32)}` }, 402, "credential-type-not-offered"],
      ["authorization, not offered", { type: "authorization", from: suite.payer.address, to: suite.seller, value: "1", validAfter: "0", validBefore: "9", nonce: `0x${"00".repeat(32)}`, signature: `0x${"11".repeat(65)}` }, 402, "credential-type-not-offered"],
      ["no type", { signature: "0x02" }, 400, undefined],
      ["an unknown type", { type: "iou", amount: "1" }, 400, undefined],
      ["a signature that is not hex", { type: "transaction", signature: "0x02zz" }, 400, undefined],
      ["bytes that are no transaction", { type: "transaction", signature: `0x02${"c0".repeat(8)}` }, 400, undefined],
      ["a legacy transaction", { type: "transaction", signature: `0xf8${"00".repeat(8)}` }, 400, undefined],
      ["a short hash", { type: "hash", hash: "0x1234" }, 400, undefined],
    ];
    for (const [name, payload, status, reason] of cases) {
      const response = await fetch(url, { headers: { authorization: chargeCredential(challenge, payload) } });
      const body = await response.json();
      assert.equal(response.status, status, `${name}: ${JSON.stringify(body)}`);
      assert.equal(response.headers.get("content-type"), "application/problem+json", name);
      if (reason) assert.equal(body.reason, reason, name);
    }
    assert.equal(served.count, 0);
    assert.deepEqual(await store.listPayments(), []);
  });

  it("test_chargeTypes_handler500_transactionIsNeverBroadcast_hashStaysPaid", async () => {
    const { url, store } = await startOneTimeGate(suite, [charge({ credentialTypes: ["transaction", "hash"] })]);
    const buyerBefore = await suite.chain.balanceOf(suite.payer.address);
    // (Another gas limit than the hash's transfer below: the same fields would sign the same transaction.)
    const signed = await transfer({ gas: 90_000n });
    const failed = await fetch(url, { headers: { authorization: chargeCredential(await fetchChargeChallenge(url), { type: "transaction", signature: signed.serialized }), "x-status": "500" } });
    assert.equal(failed.status, 500, await failed.clone().text());
    assert.equal(failed.headers.get("payment-receipt"), null);
    assert.equal(await suite.chain.balanceOf(suite.payer.address), buyerBefore, "the transaction was not broadcast");
    await assert.rejects(suite.chain.publicClient.getTransaction({ hash: signed.hash }), "no node knows it");
    assert.deepEqual((await store.listPayments()).map((payment) => [payment.credential, payment.status]), [["transaction", "released"]]);

    const challenge = await fetchChargeChallenge(url);
    const hash = await paid();
    const credential = chargeCredential(challenge, { type: "hash", hash });
    const answered = await fetch(url, { headers: { authorization: credential, "x-status": "500" } });
    assert.equal(answered.status, 500, await answered.clone().text());
    assert.equal(parseReceipt(answered.headers.get("payment-receipt")!).reference, hash, "the receipt says the transfer was taken");
    assert.equal(await suite.chain.balanceOf(suite.payer.address), buyerBefore - PRICE);
    const again = await fetch(url, { headers: { authorization: credential } });
    assert.equal(again.status, 402, "the hash cannot be presented again");
    const payments = await store.listPayments();
    assert.deepEqual(payments.map((payment) => [payment.credential, payment.status, payment.txHash]), [["transaction", "released", null], ["hash", "settled", hash]]);
  });

  it("test_chargeTypes_transactionThatCannotSettleIs402SettlementFailedWithNoContent", async () => {
    const buyer = suite.chain.account(4);
    await suite.chain.mint(buyer.address, PRICE);
    // The handler moves the buyer's tokens away first (`x-drain`), taking the account nonce the credential signed.
    const { url, store, served } = await startOneTimeGate(suite, [charge({ credentialTypes: ["transaction"] })], buyer);
    const challenge = await fetchChargeChallenge(url);
    const { serialized } = await signTransfer(suite.chain, buyer, { to: suite.seller, amount: PRICE });
    const sellerBefore = await suite.chain.balanceOf(suite.seller);
    const response = await fetch(url, { headers: { authorization: chargeCredential(challenge, { type: "transaction", signature: serialized }), "x-drain": "1" } });
    const body = await response.json();
    assert.equal(response.status, 402, JSON.stringify(body));
    assert.equal(body.reason, "settlement-failed");
    assert.equal(body.photo, undefined, "no content");
    assert.equal(served.count, 1);
    assert.equal(await suite.chain.balanceOf(suite.seller), sellerBefore);
    assert.deepEqual((await store.listPayments()).map((payment) => [payment.credential, payment.status]), [["transaction", "failed"]]);
  });

  /** Sends each payload as a credential answering `challenge` and expects a 402 with `reason`. */
  async function expectRefusals(url: string, challenge: PaymentChallenge, cases: [string, Promise<Record<string, unknown>>, string][]) {
    for (const [name, payload, reason] of cases) {
      const response = await fetch(url, { headers: { authorization: chargeCredential(challenge, await payload) } });
      const body = await response.json();
      assert.equal(response.status, 402, `${name}: ${JSON.stringify(body)}`);
      assert.equal(body.reason, reason, `${name}: ${JSON.stringify(body)}`);
      assert.match(response.headers.get("www-authenticate") ?? "", /intent="charge"/, `${name}: a fresh challenge`);
      assert.equal(response.headers.get("payment-receipt"), null, name);
    }
  }
});
