// x402 `exact` sold by a tollgate route: the real clients (@x402/fetch with @x402/evm's exact scheme for
// v2, x402-fetch for v1) buy on a local chain; replays, concurrent copies, bad payloads, a handler's
// 500 and a settlement that reverts each cost exactly what the rules say.
import assert from "node:assert/strict";
import { x402Client } from "@x402/core/client";
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from "@x402/core/http";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import { createWalletClient, http } from "viem";
import { wrapFetchWithPayment as wrapFetchWithPaymentV1 } from "x402-fetch";
import { encodeX402Header, formatX402PaymentPayload, type TransferAuthorization } from "../../../sdk/src/protocol/x402.js";
import { x402 } from "../../../sdk/src/server/index.js";
import { LOCAL_CHAIN_IDS } from "../../../sdk/src/deployments/deployTollgate.js";
import { startLocalChain } from "../../../scripts/localChain.js";
import { authorizationSigner, PRICE, startOneTimeGate } from "./oneTimeFixture.js";
import { type SellerChain, sellerChain, snapshot } from "./helpers.js";

function x402Fetch(suite: SellerChain, index = 2) {
  const client = x402Client.fromConfig({
    schemes: [{ network: "eip155:*", client: new ExactEvmScheme(suite.chain.account(index)) }],
    spendControls: { allowedAssets: [{ network: `eip155:${suite.chain.chain.id}`, asset: suite.chain.token, maxAmountPerPayment: "100000" }] },
  });
  return wrapFetchWithPayment(fetch, client);
}

describe("x402 exact, sold by a tollgate route", function () {
  this.timeout(60_000);
  const suite = sellerChain();

  /** A v2 `PAYMENT-SIGNATURE` for the gate's requirements, from `fields` signed under `domain`. */
  async function paymentHeader(fields: Partial<TransferAuthorization> = {}, domain = {}, accepted: Record<string, unknown> = {}) {
    const sign = await authorizationSigner(suite.chain, suite.payer.account);
    const { authorization, signature } = await sign({ to: suite.seller, value: PRICE, ...fields }, domain);
    const chosen = { scheme: "exact", network: `eip155:${suite.chain.chain.id}`, amount: PRICE, asset: suite.chain.token, payTo: suite.seller, ...accepted };
    return encodeX402Header(formatX402PaymentPayload({ x402Version: 2, scheme: "exact", network: chosen.network as string, accepted: chosen as never, authorization, signature }));
  }

  it("test_x402_v2ClientBuysFromATollgateRoute", async () => {
    const { url, store, served } = await startOneTimeGate(suite, [x402()]);
    const unpaid = await fetch(url);
    assert.equal(unpaid.status, 402);
    const required = decodePaymentRequiredHeader(unpaid.headers.get("payment-required")!);
    assert.equal(required.x402Version, 2);
    assert.deepEqual(required.accepts[0], {
      scheme: "exact",
      network: `eip155:${suite.chain.chain.id}`,
      amount: PRICE.toString(),
      asset: suite.chain.token,
      payTo: suite.seller,
      maxTimeoutSeconds: 60,
      extra: { name: "Mock USD Coin", version: "1" },
    });
    assert.match(unpaid.headers.get("www-authenticate")!, /intent="session"/, "the session is still offered");
    const before = await suite.chain.balanceOf(suite.seller);

    const response = await x402Fetch(suite)(url);
    assert.equal(response.status, 200, await response.clone().text());
    assert.deepEqual(await response.json(), { photo: "ok" });
    const settled = decodePaymentResponseHeader(response.headers.get("payment-response")!);
    assert.equal(settled.success, true);
    assert.equal(settled.payer, suite.payer.address);
    const receipt = await suite.chain.publicClient.getTransactionReceipt({ hash: settled.transaction as `0x${string}` });
    assert.equal(receipt.status, "success");
    assert.equal(await suite.chain.balanceOf(suite.seller), before + PRICE);
    assert.equal(served.count, 1);
    const [payment] = await store.listPayments();
    assert.equal(payment?.status, "settled");
    assert.equal(payment?.txHash, settled.transaction);
  });

  it("test_x402_replayedPayloadIsRefusedAndTenConcurrentCopiesAreServedOnce", async () => {
    const { url, store, served } = await startOneTimeGate(suite, [x402()]);
    const before = await suite.chain.balanceOf(suite.seller);
    const header = await paymentHeader();
    const responses = await Promise.all(Array.from({ length: 10 }, () => fetch(url, { headers: { "payment-signature": header } })));
    const statuses = responses.map((response) => response.status).sort();
    assert.deepEqual(statuses, [200, 402, 402, 402, 402, 402, 402, 402, 402, 402]);
    const replay = await fetch(url, { headers: { "payment-signature": header } });
    assert.equal(replay.status, 402);
    assert.match((await replay.json()).detail, /already/);
    assert.equal(served.count, 1);
    assert.equal(await suite.chain.balanceOf(suite.seller), before + PRICE, "one transfer");
    assert.equal((await store.listPayments()).length, 1);
  });

  it("test_x402_badPayloadsAre402Or400WithAReasonAndChangeNothing", async () => {
    const { url, store, served } = await startOneTimeGate(suite, [x402()]);
    const now = BigInt(Math.floor(Date.now() / 1000));
    const other = suite.chain.account(7).address;
    const cases: [string, string | Promise<string>, number, string][] = [
      ["wrong to", paymentHeader({ to: other }), 402, "recipient-mismatch"],
      ["payTo of another seller", paymentHeader({ to: other }, {}, { payTo: other }), 402, "payTo-mismatch"],
      ["short value", paymentHeader({ value: PRICE - 1n }, {}, { amount: PRICE - 1n }), 402, "amount-mismatch"],
      ["short value, claiming the price", paymentHeader({ value: PRICE - 1n }), 402, "amount-mismatch"],
      ["expired window", paymentHeader({ validBefore: now - 1n }), 402, "expired"],
      ["not yet valid", paymentHeader({ validAfter: now + 600n }), 402, "not-yet-valid"],
      ["another token", paymentHeader({}, { verifyingContract: suite.chain.escrow }, { asset: suite.chain.escrow }), 402, "asset-mismatch"],
      ["signed for another token", paymentHeader({}, { verifyingContract: suite.chain.escrow }), 402, "invalid-signature"],
      ["another chain", paymentHeader({}, { chainId: 1 }, { network: "eip155:1" }), 402, "network-mismatch"],
      ["signed for another chain", paymentHeader({}, { chainId: 1 }), 402, "invalid-signature"],
      ["malformed base64", "%%%not base64%%%", 400, ""],
      ["malformed JSON", btoa("{not json"), 400, ""],
      ["JSON of the wrong shape", btoa(JSON.stringify({ x402Version: 2, payload: { authorization: {} } })), 400, ""],
    ];
    const balances = [await suite.chain.balanceOf(suite.seller), await suite.chain.balanceOf(suite.payer.address)];
    for (const [name, header, status, reason] of cases) {
      const response = await fetch(url, { headers: { "payment-signature": await header } });
      const body = await response.json();
      assert.equal(response.status, status, `${name}: ${JSON.stringify(body)}`);
      assert.equal(response.headers.get("content-type"), "application/problem+json", name);
      if (status === 402) {
        assert.equal(body.reason, reason, name);
        assert.equal(decodePaymentRequiredHeader(response.headers.get("payment-required")!).error, reason, `${name}: the offer comes again with the reason`);
      }
    }
    assert.equal(served.count, 0);
    assert.deepEqual(await snapshot(store), { channels: [], charges: [] });
    assert.deepEqual(await store.listPayments(), []);
    assert.deepEqual([await suite.chain.balanceOf(suite.seller), await suite.chain.balanceOf(suite.payer.address)], balances);
  });

  it("test_x402_handler500TransfersNothing", async () => {
    const { url, store, served } = await startOneTimeGate(suite, [x402()]);
    const before = await suite.chain.balanceOf(suite.payer.address);
    const response = await fetch(url, { headers: { "payment-signature": await paymentHeader(), "x-status": "500" } });
    assert.equal(response.status, 500);
    assert.equal(response.headers.get("payment-response"), null);
    assert.equal(served.count, 1);
    assert.equal(await suite.chain.balanceOf(suite.payer.address), before);
    assert.deepEqual((await store.listPayments()).map((payment) => payment.status), ["released"]);
  });

  it("test_x402_settlementThatRevertsIs402AndNoContent", async () => {
    // A payer holding exactly one price, who moves it away while the request is being served.
    const payer = suite.chain.account(3);
    await suite.chain.mint(payer.address, PRICE);
    const { url, store } = await startOneTimeGate(suite, [x402()], payer);
    const sign = await authorizationSigner(suite.chain, payer);
    const { authorization, signature } = await sign({ to: suite.seller, value: PRICE });
    const accepted = { scheme: "exact", network: `eip155:${suite.chain.chain.id}`, amount: PRICE, asset: suite.chain.token, payTo: suite.seller };
    const header = encodeX402Header(formatX402PaymentPayload({ x402Version: 2, scheme: "exact", network: accepted.network, accepted, authorization, signature }));
    const before = await suite.chain.balanceOf(suite.seller);
    const response = await fetch(url, { headers: { "payment-signature": header, "x-drain": "1" } });
    const body = await response.json();
    assert.equal(response.status, 402, JSON.stringify(body));
    assert.equal(body.reason, "settlement-failed");
    assert.equal(body.photo, undefined, "no content");
    assert.equal(await suite.chain.balanceOf(suite.seller), before);
    assert.deepEqual((await store.listPayments()).map((payment) => payment.status), ["failed"]);
  });
});

describe("x402 v1 exact, sold by a tollgate route on a chain v1 names (base-sepolia)", function () {
  this.timeout(60_000);
  const suite = { servers: [], stores: [] } as unknown as SellerChain;
  before(async function () {
    // The local deployment (CREATE2 factory, mock stablecoin) is for local chain ids; this one borrows Base Sepolia's.
    (LOCAL_CHAIN_IDS as Set<number>).add(84532);
    suite.chain = await startLocalChain({ chainId: 84532 });
    suite.seller = suite.chain.account(1).address;
    await suite.chain.mint(suite.chain.account(2).address, 1_000_000n);
  });
  after(async function () {
    for (const server of suite.servers) await server.close();
    for (const store of suite.stores) await store.close();
    await suite.chain?.stop();
    (LOCAL_CHAIN_IDS as Set<number>).delete(84532);
  });

  it("test_x402_v1ClientBuysFromATollgateRoute", async () => {
    const { url, served } = await startOneTimeGate(suite, [x402()]);
    const unpaid = await fetch(url);
    const body = await unpaid.json();
    assert.equal(unpaid.status, 402);
    assert.equal(body.x402Version, 1);
    assert.equal(body.type, "https://paymentauth.org/problems/payment-required", "still a problem-details body");
    assert.equal(body.accepts[0].network, "base-sepolia");
    assert.equal(body.accepts[0].maxAmountRequired, PRICE.toString());
    assert.equal(body.accepts[0].resource, url);
    const wallet = createWalletClient({ chain: suite.chain.chain, transport: http(suite.chain.rpcUrl), account: suite.chain.account(2) });
    const before = await suite.chain.balanceOf(suite.seller);

    const response = await wrapFetchWithPaymentV1(fetch, wallet as never)(url);
    assert.equal(response.status, 200, await response.clone().text());
    const settled = JSON.parse(atob(response.headers.get("x-payment-response")!));
    assert.equal(settled.success, true);
    assert.equal(settled.network, "base-sepolia");
    assert.equal(settled.payer, suite.chain.account(2).address);
    assert.equal(await suite.chain.balanceOf(suite.seller), before + PRICE);
    assert.equal(served.count, 1);
  });
});
