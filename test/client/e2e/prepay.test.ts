// Issue 11: streams without a round trip per token. The client answers a `payment-need-voucher` with a
// voucher up to its prepay window (default 10 units) past what the stream delivered, the seller serves
// from that prepaid balance and asks ahead when it runs low, and a cooperative close settles only what
// was delivered. A seller asking past the delivered events plus the window is refused.
import assert from "node:assert/strict";
import { getChannel } from "../../../sdk/src/channel/getChannel.js";
import { buyer, capError, clientSuite, readEvents, recordingFetch, type Seller, SELLER, tokenStream } from "./fixture.js";

const TOKEN = 1_000n;
const TOKENS = 31;
const DEPOSIT = 100n * TOKEN;

describe("client e2e: a metered stream paid through the prepay window", function () {
  this.timeout(120_000);
  const suite = clientSuite();

  async function streamingSeller() {
    const seller: Seller = await suite.seller({
      path: "/v1/completions",
      route: { amount: TOKEN, unitType: "llm_token", suggestedDeposit: DEPOSIT, units: () => 0n },
      handler: tokenStream(() => seller, { price: TOKEN, tokens: TOKENS }),
    });
    return seller;
  }

  it("test_prepay_a31TokenStreamTakesAFewWindowVouchersAndTheCloseSettlesOnlyTheDeliveredTokens", async function () {
    const seller = await streamingSeller();
    const account = await suite.freshBuyer();
    const payee = suite.chain.account(SELLER).address;
    const buyerBefore = await suite.chain.balanceOf(account.address);
    const payeeBefore = await suite.chain.balanceOf(payee);
    const fetch = recordingFetch();
    const pay = buyer(suite.chain, account, { fetch });

    const response = await pay(seller.url);
    assert.equal(response.status, 200);
    const events = await readEvents(response);
    assert.deepEqual(
      events.filter((event) => event.event === "message").map((event) => event.data),
      Array.from({ length: TOKENS }, (_, index) => `token-${index + 1}`),
    );
    assert.equal(events.filter((event) => event.event === "payment-error").length, 0);
    const receipt = events.at(-1)!.data as { spent: string; acceptedCumulative: string };
    assert.equal(receipt.spent, (BigInt(TOKENS) * TOKEN).toString());

    // A handful of HEAD vouchers instead of one per token (30 with a window of one unit): one per window,
    // asked for ahead. A window that ran out before its voucher came also paused the stream, whose ask
    // that voucher already covered: not paid again.
    const asks = events.filter((event) => event.event === "payment-need-voucher").length;
    const vouchers = fetch.sent.filter((sent) => sent.method === "HEAD");
    assert.equal(fetch.sent[0]!.action, "open");
    assert.equal(vouchers.length + 1, fetch.sent.length);
    assert.ok(vouchers.length >= 3 && vouchers.length <= 8 && asks >= vouchers.length, `${vouchers.length} vouchers for ${asks} asks`);
    assert.ok(vouchers.every((sent) => sent.action === "voucher" && sent.status === 204));
    // Each voucher rises, and none runs more than the window ahead of the whole stream.
    const amounts = vouchers.map((sent) => sent.cumulativeAmount!);
    assert.deepEqual([...amounts].sort((a, b) => (a < b ? -1 : 1)), amounts);
    assert.ok(amounts.every((amount) => amount <= BigInt(TOKENS + 10) * TOKEN));

    // The last window was only partly used: the seller holds a voucher above what it delivered.
    const [channel] = await pay.channels();
    assert.equal(channel!.spent, BigInt(TOKENS) * TOKEN);
    assert.ok(channel!.cumulativeAmount > channel!.spent && channel!.cumulativeAmount <= channel!.spent + 10n * TOKEN, `${channel!.cumulativeAmount}`);
    // (An ask answered after the last token may still be on its way when the final receipt is written.)
    assert.ok(BigInt(receipt.acceptedCumulative) <= channel!.cumulativeAmount);
    const record = await seller.store.getChannel(channel!.channelId);
    assert.deepEqual([record!.spent, record!.reserved, record!.units], [BigInt(TOKENS) * TOKEN, 0n, BigInt(TOKENS)]);

    // The close settles exactly the delivered tokens on-chain; the unspent prepaid part goes back.
    const closed = await pay.close({ channelId: channel!.channelId });
    assert.equal(closed.settled, BigInt(TOKENS) * TOKEN);
    assert.equal(closed.refund, DEPOSIT - BigInt(TOKENS) * TOKEN);
    const onChain = await getChannel({ client: suite.chain.publicClient, escrow: suite.chain.escrow, channelId: channel!.channelId });
    assert.equal(onChain!.settled, BigInt(TOKENS) * TOKEN);
    assert.equal(await suite.chain.balanceOf(account.address), buyerBefore - BigInt(TOKENS) * TOKEN);
    assert.equal(await suite.chain.balanceOf(payee), payeeBefore + BigInt(TOKENS) * TOKEN);
  });

  it("test_prepay_aStreamOfExactlyMaxUnitsPerStreamIsDeliveredWholeThoughTheSellerAsksAheadPastIt", async function () {
    // Near the end the seller asks ahead for a 32nd token: the cap refuses it, but the prepaid tokens still
    // cover the stream, which ends without needing it; no error, nothing signed past the cap.
    const seller = await streamingSeller();
    const fetch = recordingFetch();
    const pay = buyer(suite.chain, await suite.freshBuyer(), { fetch, maxUnitsPerStream: BigInt(TOKENS) });
    const response = await pay(seller.url);
    const events = await readEvents(response);
    assert.equal(events.filter((event) => event.event === "message").length, TOKENS);
    assert.equal(events.at(-1)!.event, "payment-receipt");
    const asks = events.filter((event) => event.event === "payment-need-voucher").map((event) => BigInt((event.data as { requiredCumulative: string }).requiredCumulative));
    assert.ok(asks.some((required) => required > BigInt(TOKENS) * TOKEN), "the seller asked past the cap");
    assert.equal(await pay.totalAuthorized(), BigInt(TOKENS) * TOKEN);
    assert.ok(fetch.sent.every((sent) => sent.cumulativeAmount! <= BigInt(TOKENS) * TOKEN));
  });

  it("test_prepay_aSellerAskingPastTheDeliveredEventsPlusTheWindowIsRefused", async function () {
    // Two tokens, then asks one unit at a time, each within one unit of the last voucher (the old
    // per-ask check), but with no further token delivered: past two tokens plus ten it is refused.
    const seller: Seller = await suite.seller({
      path: "/v1/completions",
      route: { amount: TOKEN, unitType: "llm_token", suggestedDeposit: DEPOSIT, units: () => 0n },
      handler: async (_request, payment) => {
        const channelId = payment.method === "session" ? payment.channelId : assert.fail("a session");
        const encoder = new TextEncoder();
        const body = new ReadableStream<Uint8Array>({
          async start(controller) {
            const send = (event: string, data: unknown) => controller.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
            send("message", "token-1");
            send("message", "token-2");
            for (let units = 2n; units <= 40n; units++) {
              send("payment-need-voucher", { channelId, requiredCumulative: (units * TOKEN).toString(), acceptedCumulative: "0", deposit: DEPOSIT.toString() });
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
          },
        });
        return new Response(body, { headers: { "content-type": "text/event-stream" } });
      },
    });
    const fetch = recordingFetch();
    const pay = buyer(suite.chain, await suite.freshBuyer(), { fetch });
    const response = await pay(seller.url);
    assert.equal(response.status, 200);
    await assert.rejects(response.text(), capError("prepayUnits"));
    assert.equal(await pay.totalAuthorized(), 12n * TOKEN);
    assert.ok(fetch.sent.every((sent) => (sent.cumulativeAmount ?? 0n) <= 12n * TOKEN));
    assert.ok(fetch.sent.some((sent) => sent.cumulativeAmount === 12n * TOKEN), "the window itself was paid");
  });

  it("test_prepay_theWindowIsCappedByTheClientOptionAndTheBudget", async function () {
    const account = await suite.freshBuyer();
    // prepayUnits 3: each voucher is at most three tokens past the delivered ones.
    const seller = await streamingSeller();
    const fetch = recordingFetch();
    const pay = buyer(suite.chain, account, { fetch, prepayUnits: 3n, totalBudget: 20n * TOKEN });
    const response = await pay(seller.url);
    // The budget ends the stream: twenty tokens authorized, not one more.
    await assert.rejects(response.text(), capError("totalBudget"));
    assert.equal(await pay.totalAuthorized(), 20n * TOKEN);
    const amounts = fetch.sent.map((sent) => sent.cumulativeAmount!);
    assert.ok(amounts.every((amount, index) => index === 0 || amount - amounts[index - 1]! <= 3n * TOKEN), amounts.join());
    assert.ok(amounts.length > 6, `${amounts.length} vouchers for twenty tokens with a window of three`);
    assert.throws(() => buyer(suite.chain, account, { prepayUnits: 0n }), /prepayUnits/);
  });
});
