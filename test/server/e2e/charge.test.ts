// The MPP `evm` charge intent (authorization credentials) sold by a tollgate route: mppx's evm charge
// client buys on a local chain; a replayed or concurrent credential is served once; a credential whose
// nonce is not the challenge's hash, or that pays the wrong party or amount, is refused; a handler's
// 500 transfers nothing.
import assert from "node:assert/strict";
import { Mppx } from "mppx/client";
import { charge as mppxCharge } from "mppx/evm/client";
import { type Hex } from "viem";
import { chargeChallengeHash, formatChargeAuthorizationPayload, parseChargeRequest } from "../../../sdk/src/protocol/charge.js";
import { decodeChallengeRequest, parseChallenges, type PaymentChallenge } from "../../../sdk/src/protocol/challenge.js";
import { formatCredential } from "../../../sdk/src/protocol/credential.js";
import { parseReceipt } from "../../../sdk/src/protocol/receipt.js";
import { x402Client } from "@x402/core/client";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import { charge, x402 } from "../../../sdk/src/server/index.js";
import { authorizationSigner, fetchChargeChallenge, PRICE, startOneTimeGate } from "./oneTimeFixture.js";
import { sellerChain, snapshot } from "./helpers.js";

describe("MPP evm charge, sold by a tollgate route", function () {
  this.timeout(60_000);
  const suite = sellerChain();


  /** A credential answering `challenge`, its authorization bent by `fields`. */
  async function credential(challenge: PaymentChallenge, fields: { to?: Hex; value?: bigint; nonce?: Hex } = {}) {
    const sign = await authorizationSigner(suite.chain, suite.payer.account);
    const { authorization, signature } = await sign({ to: suite.seller, value: PRICE, nonce: chargeChallengeHash(challenge), ...fields });
    return formatCredential({ challenge, payload: formatChargeAuthorizationPayload({ type: "authorization", ...authorization, signature }) });
  }

  it("test_charge_mppxClientBuysFromATollgateRoute", async () => {
    const { url, store, served } = await startOneTimeGate(suite, [charge({ decimals: 6 })]);
    const challenge = await fetchChargeChallenge(url);
    assert.equal(challenge.method, "evm");
    const request = parseChargeRequest(decodeChallengeRequest(challenge.request));
    assert.deepEqual(request.methodDetails, { chainId: suite.chain.chain.id, credentialTypes: ["authorization"], decimals: 6 });
    assert.equal(request.amount, PRICE);
    assert.notEqual((await fetchChargeChallenge(url)).id, challenge.id, "every 402 a challenge of its own, so every nonce is new");
    const before = await suite.chain.balanceOf(suite.seller);

    const mppx = Mppx.create({ polyfill: false, methods: [mppxCharge({ account: suite.payer.account, authorization: { name: "Mock USD Coin", version: "1" } })] });
    const response = await mppx.fetch(url);
    assert.equal(response.status, 200, await response.clone().text());
    assert.deepEqual(await response.json(), { photo: "ok" });
    const receipt = parseReceipt(response.headers.get("payment-receipt")!);
    assert.equal(receipt.method, "evm");
    assert.equal(receipt.intent, "charge");
    const mined = await suite.chain.publicClient.getTransactionReceipt({ hash: receipt.reference as Hex });
    assert.equal(mined.status, "success");
    assert.equal(await suite.chain.balanceOf(suite.seller), before + PRICE);
    assert.equal(served.count, 1);
    assert.deepEqual((await store.listPayments()).map((payment) => [payment.method, payment.status, payment.txHash]), [["charge", "settled", receipt.reference]]);
  });

  it("test_charge_replayedCredentialIsRefusedAndTenConcurrentCopiesAreServedOnce", async () => {
    const { url, served } = await startOneTimeGate(suite, [charge()]);
    const before = await suite.chain.balanceOf(suite.seller);
    const authorization = await credential(await fetchChargeChallenge(url));
    const responses = await Promise.all(Array.from({ length: 10 }, () => fetch(url, { headers: { authorization } })));
    assert.deepEqual(responses.map((response) => response.status).sort(), [200, 402, 402, 402, 402, 402, 402, 402, 402, 402]);
    const replay = await fetch(url, { headers: { authorization } });
    assert.equal(replay.status, 402);
    assert.match(replay.headers.get("www-authenticate")!, /intent="charge"/, "a refusal offers a fresh challenge");
    assert.equal(served.count, 1);
    assert.equal(await suite.chain.balanceOf(suite.seller), before + PRICE, "one transfer");
  });

  it("test_charge_badCredentialsAre402Or400AndChangeNothing", async () => {
    const { url, store, served } = await startOneTimeGate(suite, [charge()]);
    const challenge = await fetchChargeChallenge(url);
    const cases: [string, string | Promise<string>, number, string | undefined][] = [
      ["nonce not bound to the challenge", credential(challenge, { nonce: `0x${"11".repeat(32)}` }), 402, "nonce-mismatch"],
      ["wrong to", credential(challenge, { to: suite.chain.account(7).address }), 402, "recipient-mismatch"],
      ["short value", credential(challenge, { value: PRICE - 1n }), 402, "amount-mismatch"],
      ["forged challenge", credential({ ...challenge, id: "forged" }), 402, undefined],
      ["malformed credential", "Payment %%%", 400, undefined],
    ];
    const balance = await suite.chain.balanceOf(suite.payer.address);
    for (const [name, header, status, reason] of cases) {
      const response = await fetch(url, { headers: { authorization: await header } });
      const body = await response.json();
      assert.equal(response.status, status, `${name}: ${JSON.stringify(body)}`);
      if (reason) assert.equal(body.reason, reason, name);
    }
    assert.equal(served.count, 0);
    assert.deepEqual(await snapshot(store), { channels: [], charges: [] });
    assert.deepEqual(await store.listPayments(), []);
    assert.equal(await suite.chain.balanceOf(suite.payer.address), balance);
  });

  it("test_charge_handler500TransfersNothing", async () => {
    const { url, store } = await startOneTimeGate(suite, [charge()]);
    const before = await suite.chain.balanceOf(suite.payer.address);
    const response = await fetch(url, { headers: { authorization: await credential(await fetchChargeChallenge(url)), "x-status": "500" } });
    assert.equal(response.status, 500);
    assert.equal(response.headers.get("payment-receipt"), null);
    assert.equal(await suite.chain.balanceOf(suite.payer.address), before);
    assert.deepEqual((await store.listPayments()).map((payment) => payment.status), ["released"]);
  });

  it("test_charge_oneRouteOffersEveryMethodAndEachClientPaysItsOwn", async () => {
    const { url, store, served } = await startOneTimeGate(suite, [charge(), x402()]);
    const unpaid = await fetch(url);
    const body = await unpaid.json();
    assert.equal(unpaid.status, 402);
    assert.deepEqual(parseChallenges(unpaid.headers.get("www-authenticate")!).map((challenge) => challenge.intent), ["session", "charge"]);
    assert.ok(unpaid.headers.get("payment-required"), "x402 v2");
    assert.equal(body.x402Version, 1, "x402 v1 in the problem body");
    assert.equal(body.status, 402);

    const mppx = Mppx.create({ polyfill: false, methods: [mppxCharge({ account: suite.payer.account, authorization: { name: "Mock USD Coin", version: "1" } })] });
    assert.equal((await mppx.fetch(url)).status, 200);
    const client = x402Client.fromConfig({
      schemes: [{ network: "eip155:*", client: new ExactEvmScheme(suite.payer.account) }],
      spendControls: { allowedAssets: [{ network: `eip155:${suite.chain.chain.id}`, asset: suite.chain.token }] },
    });
    assert.equal((await wrapFetchWithPayment(fetch, client)(url)).status, 200);
    assert.equal(served.count, 2);
    assert.deepEqual((await store.listPayments()).map((payment) => [payment.method, payment.status]).sort(), [["charge", "settled"], ["x402", "settled"]]);
  });
});
