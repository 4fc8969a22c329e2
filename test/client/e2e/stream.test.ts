// A metered SSE stream that runs through both the accepted vouchers and the deposit: the client follows
// every `payment-need-voucher` with a HEAD voucher, tops up when the deposit is exhausted (on-chain, or
// relayed through the voucher's deposit extension when the seller pays gas), and the stream ends with a
// `payment-receipt` event whose totals are exact. With a prepay window of one unit the client signs one
// voucher per token, exactly as before windows existed; prepay.test.ts has the default window.
import assert from "node:assert/strict";
import { parseEventLogs } from "viem";
import { getChannel } from "../../../sdk/src/channel/getChannel.js";
import { tollgateEscrowAbi } from "../../../sdk/src/generated/tollgateEscrowAbi.js";
import { PaymentCapError } from "../../../sdk/src/client/index.js";
import { meteredEventStream } from "../../../sdk/src/server/index.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import { buyer, countingAccount, readEvents, recordingFetch, type Seller, startSeller, transactionsSince, USDC } from "./fixture.js";

const TOKEN_PRICE = 1_000n; // $0.001 per token
const TOKENS = 10;
const DEPOSIT = 3n * TOKEN_PRICE; // the seller suggests three tokens' worth: the stream needs three top-ups

describe("client e2e: metered stream with mid-stream vouchers and top-ups", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  const sellers: Seller[] = [];

  before(async function () {
    chain = await startLocalChain();
  });

  after(async function () {
    for (const seller of sellers) await seller.stop();
    await chain?.stop();
  });

  async function streamingSeller(feePayer: boolean, voucherTimeout = 15_000) {
    const seller: Seller = await startSeller({
      chain,
      path: "/v1/completions",
      gate: { feePayer },
      // The request itself costs nothing: the stream meters each token.
      route: { amount: TOKEN_PRICE, unitType: "llm_token", suggestedDeposit: DEPOSIT, units: () => 0n },
      handler: (request, payment) =>
        meteredEventStream({
          gate: seller.gate,
          payment: payment.method === "session" ? payment : assert.fail("a metered stream is paid from a session"),
          price: TOKEN_PRICE,
          signal: request.signal,
          voucherTimeout,
          pollInterval: 50,
          source: (async function* () {
            for (let token = 1; token <= TOKENS; token++) yield `token-${token}`;
          })(),
        }),
    });
    sellers.push(seller);
    return seller;
  }

  for (const feePayer of [false, true]) {
    const variant = feePayer ? "RelayedThroughTheDepositExtension" : "OnChainByTheBuyer";
    it(`test_stream_aWindowOfOneUnitTopsUpMidStreamAndEndsWithAnExactReceipt_${variant}`, async function () {
      const seller = await streamingSeller(feePayer);
      const account = countingAccount(chain.account(feePayer ? 3 : 2));
      await chain.mint(account.address, 10n * USDC);
      const tokensBefore = await chain.balanceOf(account.address);
      const ethBefore = await chain.publicClient.getBalance({ address: account.address });
      const startBlock = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
      const fetch = recordingFetch();
      // The buyer caps a deposit at what the seller suggests: every top-up must fit that cap too.
      const pay = buyer(chain, account, { maxDeposit: DEPOSIT, fetch, prepayUnits: 1n });

      const response = await pay(seller.url, { headers: { accept: "text/event-stream" } });
      assert.equal(response.status, 200);
      assert.ok(response.headers.get("payment-receipt"), "the stream's headers carry a receipt");
      const events = await readEvents(response);

      const content = events.filter((event) => event.event === "message").map((event) => event.data);
      assert.deepEqual(content, Array.from({ length: TOKENS }, (_, index) => `token-${index + 1}`), JSON.stringify(events));
      assert.equal(events.filter((event) => event.event === "payment-need-voucher").length, TOKENS - 1);
      assert.equal(events.filter((event) => event.event === "payment-error").length, 0);
      const last = events.at(-1)!;
      assert.equal(last.event, "payment-receipt");
      const receipt = last.data as { spent: string; acceptedCumulative: string; units: number; channelId: string };
      assert.equal(BigInt(receipt.spent), BigInt(TOKENS) * TOKEN_PRICE);
      assert.equal(BigInt(receipt.acceptedCumulative), BigInt(TOKENS) * TOKEN_PRICE);
      assert.equal(receipt.units, TOKENS);

      // The credentials: the open (one token), then one voucher per further token, each exactly one token higher.
      assert.equal(fetch.sent[0]!.action, "open");
      assert.equal(fetch.sent[0]!.type, feePayer ? "authorization" : "hash");
      const vouchers = fetch.sent.slice(1);
      assert.ok(vouchers.every((sent) => sent.method === "HEAD" && sent.action === "voucher" && sent.status === 204), JSON.stringify(vouchers, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
      assert.deepEqual(
        vouchers.map((sent) => sent.cumulativeAmount),
        Array.from({ length: TOKENS - 1 }, (_, index) => BigInt(index + 2) * TOKEN_PRICE),
      );
      // Top-ups of one suggested deposit each when 4, 7 and 10 tokens pass the deposit: 3 → 12 tokens' worth.
      assert.equal(vouchers.filter((sent) => sent.deposit).length, feePayer ? 3 : 0);

      const [channel] = await pay.channels();
      assert.equal(channel!.channelId, receipt.channelId);
      assert.equal(channel!.cumulativeAmount, BigInt(TOKENS) * TOKEN_PRICE);
      assert.equal(channel!.deposit, 4n * DEPOSIT);
      assert.equal(await pay.totalAuthorized(), BigInt(TOKENS) * TOKEN_PRICE);
      assert.equal(await pay.totalSpent(), BigInt(TOKENS) * TOKEN_PRICE, "the final payment-receipt event is taken into the channel");
      const onChain = await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId: channel!.channelId });
      assert.equal(onChain!.deposit, 4n * DEPOSIT);
      const record = await seller.store.getChannel(channel!.channelId);
      assert.equal(record!.spent, BigInt(TOKENS) * TOKEN_PRICE);
      assert.equal(record!.acceptedCumulative, BigInt(TOKENS) * TOKEN_PRICE);
      assert.equal(record!.units, BigInt(TOKENS));
      assert.equal(record!.deposit, 4n * DEPOSIT);

      const logs = await chain.publicClient.getLogs({ address: chain.escrow, fromBlock: startBlock + 1n });
      assert.equal(parseEventLogs({ abi: tollgateEscrowAbi, eventName: "ChannelOpened", logs }).length, 1);
      assert.equal(parseEventLogs({ abi: tollgateEscrowAbi, eventName: "ChannelToppedUp", logs }).length, 3);
      if (feePayer) {
        // The seller sent every transaction: the buyer spent no gas and sent nothing.
        assert.equal(await chain.publicClient.getBalance({ address: account.address }), ethBefore);
        assert.equal(await chain.publicClient.getTransactionCount({ address: account.address }), 0);
        assert.equal(account.signed.transactions, 0);
        assert.equal(await transactionsSince(chain, startBlock), 4, "openWithAuthorization + 3 topUpWithAuthorization");
      } else {
        assert.equal(await transactionsSince(chain, startBlock), 8, "approve + open, then approve + topUp three times");
      }
      assert.equal(await chain.balanceOf(account.address), tokensBefore - 4n * DEPOSIT);

      // Closing settles exactly the tokens streamed and refunds the rest of the deposit.
      const closed = await pay.close({ channelId: channel!.channelId });
      assert.equal(closed.settled, BigInt(TOKENS) * TOKEN_PRICE);
      assert.equal(closed.refund, 4n * DEPOSIT - BigInt(TOKENS) * TOKEN_PRICE);
      assert.equal(await chain.balanceOf(account.address), tokensBefore - BigInt(TOKENS) * TOKEN_PRICE);
    });
  }
  it("test_stream_aBudgetReachedMidStreamEndsTheStreamAtOnceWithThePaymentCapError", async function () {
    // The seller would wait 30 s for a voucher the client will never sign; the client ends the stream instead.
    const seller = await streamingSeller(false, 30_000);
    const account = countingAccount(chain.account(4));
    await chain.mint(account.address, 10n * USDC);
    const fetch = recordingFetch();
    const pay = buyer(chain, account, { maxDeposit: DEPOSIT, totalBudget: 5n * TOKEN_PRICE, fetch });
    const response = await pay(seller.url);
    assert.equal(response.status, 200);
    const started = Date.now();
    const read = response.text();
    await assert.rejects(read, (error: unknown) => error instanceof PaymentCapError && error.cap === "totalBudget");
    assert.ok(Date.now() - started < 10_000, `the stream ended after ${Date.now() - started} ms`);
    assert.ok(fetch.sent.every((sent) => (sent.cumulativeAmount ?? 0n) <= 5n * TOKEN_PRICE));
    assert.equal(await pay.totalAuthorized(), 5n * TOKEN_PRICE);
    const [channel] = await pay.channels();
    // The seller charged exactly the five tokens paid for, and nothing is left reserved.
    const deadline = Date.now() + 5_000;
    let record = await seller.store.getChannel(channel!.channelId);
    while (record!.units < 5n && Date.now() < deadline) record = await seller.store.getChannel(channel!.channelId);
    assert.equal(record!.spent, 5n * TOKEN_PRICE);
    assert.equal(record!.reserved, 0n);
  });
});
