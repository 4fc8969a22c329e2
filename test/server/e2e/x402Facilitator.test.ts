// Issue 9, "settles through an x402 facilitator's HTTP API": `x402({ facilitator: { url } })` verifies
// and settles through `POST /verify` and `POST /settle`, against a real facilitator built from
// @x402/core and @x402/evm (its own funded key submits the transfer) and a hostile one that claims
// success with a transaction that does not pay this authorization: every claim is checked on the chain.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { x402Client } from "@x402/core/client";
import { decodePaymentResponseHeader } from "@x402/core/http";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import type { Hex } from "viem";
import { encodeX402Header, formatX402PaymentPayload } from "../../../sdk/src/protocol/x402.js";
import { x402 } from "../../../sdk/src/server/index.js";
import { type Listening, startFacilitator } from "../../client/e2e/x402Sellers.js";
import { randomBytes32, sellerChain } from "./helpers.js";
import { authorizationSigner, PRICE, startOneTimeGate } from "./oneTimeFixture.js";

const FACILITATOR = 7;

/** A facilitator that says yes to everything and answers /settle with `settlement` (a lie a test chooses). */
async function startHostileFacilitator(settlement: () => Record<string, unknown>, verify: Record<string, unknown> = { isValid: true }): Promise<Listening & { calls: string[] }> {
  const calls: string[] = [];
  const server = createServer((request, response) => {
    calls.push(request.url ?? "");
    request.resume().on("end", () => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(request.url === "/settle" ? settlement() : verify));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    calls,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("x402 exact through a facilitator", function () {
  this.timeout(60_000);
  const suite = sellerChain();
  const stops: Listening[] = [];
  after(async () => {
    for (const listening of stops) await listening.stop();
  });

  const network = () => `eip155:${suite.chain.chain.id}` as const;
  const buyer = () =>
    wrapFetchWithPayment(
      fetch,
      x402Client.fromConfig({
        schemes: [{ network: "eip155:*", client: new ExactEvmScheme(suite.payer.account) }],
        spendControls: { allowedAssets: [{ network: network(), asset: suite.chain.token, maxAmountPerPayment: "100000" }] },
      }),
    );

  /** A v2 payment for the gate's requirements, signed by the payer. */
  async function paymentHeader() {
    const sign = await authorizationSigner(suite.chain, suite.payer.account);
    const { authorization, signature } = await sign({ to: suite.seller, value: PRICE });
    const accepted = { scheme: "exact", network: network(), amount: PRICE, asset: suite.chain.token, payTo: suite.seller };
    return encodeX402Header(formatX402PaymentPayload({ x402Version: 2, scheme: "exact", network: network(), accepted, authorization, signature }));
  }

  it("test_x402Facilitator_realFacilitatorSettles_andItsTransactionIsChecked", async function () {
    const facilitator = await startFacilitator({ chain: suite.chain, account: suite.chain.account(FACILITATOR) });
    stops.push(facilitator);
    const { url, store } = await startOneTimeGate(suite, [x402({ versions: [2], facilitator: { url: facilitator.url } })]);
    const sellerBefore = await suite.chain.balanceOf(suite.seller);
    const sellerNonce = await suite.chain.publicClient.getTransactionCount({ address: suite.seller });

    const response = await buyer()(url);
    assert.equal(response.status, 200, await response.clone().text());
    assert.deepEqual(await response.json(), { photo: "ok" });
    const settled = decodePaymentResponseHeader(response.headers.get("payment-response")!);
    assert.equal(settled.success, true);
    const transaction = await suite.chain.publicClient.getTransaction({ hash: settled.transaction as Hex });
    assert.equal(transaction.from.toLowerCase(), suite.chain.account(FACILITATOR).address.toLowerCase(), "the facilitator submitted the transfer");
    assert.equal(await suite.chain.publicClient.getTransactionCount({ address: suite.seller }), sellerNonce, "the seller sent nothing");
    assert.equal(await suite.chain.balanceOf(suite.seller), sellerBefore + PRICE);
    const [payment] = await store.listPayments();
    assert.deepEqual([payment?.status, payment?.txHash], ["settled", settled.transaction]);
  });

  it("test_x402Facilitator_hostileFacilitatorClaimingAnotherOrNoTransaction_getsNoContentAnd402", async function () {
    // A real transfer of another authorization (same payer, payee and value): a plausible lie.
    const real = await startFacilitator({ chain: suite.chain, account: suite.chain.account(FACILITATOR) });
    stops.push(real);
    const honest = await startOneTimeGate(suite, [x402({ versions: [2], facilitator: { url: real.url } })]);
    const paid = await buyer()(honest.url);
    assert.equal(paid.status, 200);
    const otherTransfer = decodePaymentResponseHeader(paid.headers.get("payment-response")!).transaction;

    const lies: [string, () => Record<string, unknown>][] = [
      ["another authorization's transfer", () => ({ success: true, transaction: otherTransfer, network: network(), payer: suite.payer.address })],
      ["a transaction that does not exist", () => ({ success: true, transaction: randomBytes32(), network: network(), payer: suite.payer.address })],
      ["no transaction", () => ({ success: true, transaction: "", network: network(), payer: suite.payer.address })],
      ["another chain", () => ({ success: true, transaction: otherTransfer, network: "eip155:8453", payer: suite.payer.address })],
    ];
    for (const [name, lie] of lies) {
      const hostile = await startHostileFacilitator(lie);
      stops.push(hostile);
      const { url, store, served } = await startOneTimeGate(suite, [x402({ versions: [2], facilitator: { url: hostile.url } })]);
      const sellerBefore = await suite.chain.balanceOf(suite.seller);
      const response = await fetch(url, { headers: { "payment-signature": await paymentHeader() } });
      const body = await response.text();
      assert.equal(response.status, 402, `${name}: ${body}`);
      assert.doesNotMatch(body, /photo/, `${name}: the handler's content never leaves`);
      assert.equal(JSON.parse(body).reason, "settlement-unproven", name);
      assert.equal(response.headers.get("payment-response"), null, name);
      assert.deepEqual(hostile.calls, ["/verify", "/settle"], name);
      assert.equal(served.count, 1, name);
      assert.deepEqual((await store.listPayments()).map((payment) => payment.status), ["failed"], `${name}: recorded failed, never settled`);
      assert.equal(await suite.chain.balanceOf(suite.seller), sellerBefore, name);
    }
  });

  it("test_x402Facilitator_unreachableFacilitator_is503WithoutServingOrRecording", async function () {
    const gone = await startHostileFacilitator(() => ({}));
    await gone.stop();
    const { url, store, served } = await startOneTimeGate(suite, [x402({ versions: [2], facilitator: { url: gone.url } })]);
    const response = await fetch(url, { headers: { "payment-signature": await paymentHeader() } });
    assert.equal(response.status, 503, await response.clone().text());
    assert.ok(response.headers.get("retry-after"));
    assert.equal(served.count, 0);
    assert.deepEqual(await store.listPayments(), []);
  });

  it("test_x402Facilitator_verifyRefusal_isA402BeforeTheHandlerAndRecordsNothing", async function () {
    const hostile = await startHostileFacilitator(() => ({ success: true }), { isValid: false, invalidReason: "insufficient_funds" });
    stops.push(hostile);
    const { url, store, served } = await startOneTimeGate(suite, [x402({ versions: [2], facilitator: { url: hostile.url } })]);
    const response = await fetch(url, { headers: { "payment-signature": await paymentHeader() } });
    assert.equal(response.status, 402);
    const body = await response.json();
    assert.equal(body.reason, "facilitator-refused");
    assert.match(body.detail, /insufficient_funds/);
    assert.deepEqual(hostile.calls, ["/verify"]);
    assert.equal(served.count, 0);
    assert.deepEqual(await store.listPayments(), []);
  });
});
