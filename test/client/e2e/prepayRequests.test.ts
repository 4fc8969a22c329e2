// Issue 12: a plain request's voucher may prepay the next few requests (`prepayRequests`), which then
// replay it and the gate admits without a second signature check. The window is bounded by the
// requests this client sent, not by what the seller's receipts report as spent.
import assert from "node:assert/strict";
import { formatReceipt, parseReceipt } from "../../../sdk/src/protocol/receipt.js";
import { buyer, capError, clientSuite, credentialAction, PRICE, recordingFetch } from "./fixture.js";

describe("client e2e: plain requests paid through a prepay window", function () {
  this.timeout(120_000);
  const suite = clientSuite();

  /** The distinct voucher amounts a recording fetch sent, in order (replays of one voucher count once). */
  const distinctVouchers = (fetch: ReturnType<typeof recordingFetch>) =>
    [...new Set(fetch.sent.filter((sent) => sent.action === "voucher").map((sent) => sent.cumulativeAmount!))];

  it("test_prepayRequests_twelveRequestsSignThreeVouchersAndTheCloseSettlesOnlyWhatWasServed", async function () {
    const seller = await suite.seller();
    const fetch = recordingFetch();
    const pay = buyer(suite.chain, await suite.freshBuyer(), { fetch, prepayRequests: 5n });
    for (let i = 0; i < 12; i++) assert.equal((await pay(seller.url)).status, 200);

    assert.equal(fetch.sent[0]!.action, "open");
    const opened = fetch.sent[0]!.cumulativeAmount!;
    // After the open, each voucher prepays five requests past what was spent; the requests between replay it.
    assert.deepEqual(distinctVouchers(fetch), [opened + 5n * PRICE, opened + 10n * PRICE, opened + 15n * PRICE]);
    assert.ok(fetch.sent.every((sent) => sent.status === 200));
    const [channel] = await pay.channels();
    assert.equal(channel!.spent, 12n * PRICE);
    assert.equal(seller.served.length, 12);
    const record = await seller.store.getChannel(channel!.channelId);
    assert.deepEqual([record!.spent, record!.reserved, record!.acceptedCumulative], [12n * PRICE, 0n, channel!.cumulativeAmount]);

    const closed = await pay.close({ channelId: channel!.channelId });
    assert.equal(closed.settled, 12n * PRICE);
  });

  it("test_prepayRequests_aSellerReportingTheWindowSpentGetsOneRequestMorePerRequestNotAnotherWindow", async function () {
    const honest = await suite.seller();
    // Every receipt claims the whole accepted voucher spent, as if the window were used up.
    const liar = await suite.hostile(honest, async (request, answer) => {
      const response = await answer();
      const header = response.headers.get("payment-receipt");
      if (header === null || credentialAction(request) === undefined) return response;
      const receipt = parseReceipt(header);
      const headers = new Headers(response.headers);
      headers.set("payment-receipt", formatReceipt({ ...receipt, spent: receipt.acceptedCumulative }));
      return new Response(response.body, { status: response.status, headers });
    });
    const fetch = recordingFetch();
    const pay = buyer(suite.chain, await suite.freshBuyer(), { fetch, prepayRequests: 5n });
    const requests = 8;
    for (let i = 0; i < requests; i++) assert.equal((await pay(liar.url)).status, 200);

    const opened = fetch.sent[0]!.cumulativeAmount!;
    const [channel] = await pay.channels();
    // At most the window once, plus one request's worth for each later request sent: not a window each.
    assert.equal(channel!.cumulativeAmount, opened + (5n + BigInt(requests - 2)) * PRICE);
    assert.deepEqual(distinctVouchers(fetch), Array.from({ length: requests - 1 }, (_, i) => opened + (5n + BigInt(i)) * PRICE));
  });

  it("test_prepayRequests_theWindowStopsAtTheDepositWithoutATopUp", async function () {
    const seller = await suite.seller({ route: { suggestedDeposit: 4n * PRICE } });
    const pay = buyer(suite.chain, await suite.freshBuyer(), { prepayRequests: 10n });
    for (let i = 0; i < 4; i++) assert.equal((await pay(seller.url)).status, 200);
    let [channel] = await pay.channels();
    assert.deepEqual([channel!.cumulativeAmount, channel!.deposit], [4n * PRICE, 4n * PRICE]);
    // The fifth request needs the top-up it would have needed without a window.
    assert.equal((await pay(seller.url)).status, 200);
    [channel] = await pay.channels();
    assert.ok(channel!.deposit > 4n * PRICE && channel!.cumulativeAmount >= 5n * PRICE);
  });

  it("test_prepayRequests_theWindowStopsAtTheBudget", async function () {
    const seller = await suite.seller();
    const pay = buyer(suite.chain, await suite.freshBuyer(), { prepayRequests: 10n, totalBudget: 3n * PRICE });
    for (let i = 0; i < 3; i++) assert.equal((await pay(seller.url)).status, 200);
    const [channel] = await pay.channels();
    assert.equal(channel!.cumulativeAmount, 3n * PRICE);
    await assert.rejects(pay(seller.url), capError("totalBudget"));
  });

  it("test_prepayRequests_belowOneIsRefused", function () {
    assert.throws(() => buyer(suite.chain, suite.chain.account(9), { prepayRequests: 0n }), /prepayRequests must be at least 1/);
  });
});
