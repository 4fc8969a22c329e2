// A seller whose node has not seen the buyer's open yet (more confirmations asked for, a node behind the
// buyer's) answers 402 with Retry-After: the client waits as told, within its own bound, and sends the
// same open again instead of handing the 402 to the caller.
import assert from "node:assert/strict";
import { buyer, clientSuite, PRICE, recordingFetch } from "./fixture.js";

describe("client e2e: Retry-After on an open the seller cannot see yet", function () {
  this.timeout(120_000);
  const suite = clientSuite();

  it("test_client_anOpenNotYetConfirmedForTheSellerIsRetriedAfterRetryAfter", async function () {
    const seller = await suite.seller({ gate: { confirmations: 2, receiptTimeout: 200 } });
    const account = await suite.freshBuyer();
    const sent = recordingFetch();
    const pay = buyer(suite.chain, account, { fetch: sent });
    // Nothing else is mined meanwhile, so the open has one confirmation until this block comes.
    const mine = setTimeout(() => void suite.chain.publicClient.request({ method: "evm_mine" as never, params: [] as never }), 1_500);
    try {
      const response = await pay(seller.url);
      assert.equal(response.status, 200);
    } finally {
      clearTimeout(mine);
    }
    const opens = sent.sent.filter((credential) => credential.action === "open");
    assert.ok(opens.length >= 2, `the same open is sent again after the 402 (sent ${opens.length})`);
    assert.equal(new Set(opens.map((credential) => credential.cumulativeAmount)).size, 1, "one voucher, not a second one");
    assert.equal((await pay.channels()).length, 1, "no second channel");
    assert.equal(await pay.totalAuthorized(), PRICE);
  });

  it("test_client_aRetryAfterBeyondTheClientsBoundIsNotWaitedFor", async function () {
    const seller = await suite.seller();
    const hostile = await suite.hostile(seller, async (request, honest) => {
      if (!request.headers.get("authorization")) return honest();
      return new Response(JSON.stringify({ type: "https://paymentauth.org/problems/verification-failed", title: "Verification Failed", status: 402 }), {
        status: 402,
        headers: { "content-type": "application/problem+json", "retry-after": "86400" },
      });
    });
    const account = await suite.freshBuyer();
    const started = Date.now();
    const response = await buyer(suite.chain, account)(hostile.url);
    assert.equal(response.status, 402);
    assert.ok(Date.now() - started < 60_000, "a seller's Retry-After cannot hold the client for a day");
  });
});
