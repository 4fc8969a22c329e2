// A hostile seller: a real gate behind a server that lies about balances, channels and prices. Whatever
// it claims, the client signs no more than the request can cost, escrows no more than its deposit cap,
// and pays only in the currencies it allows; a refused demand is a typed error with nothing signed.
import assert from "node:assert/strict";
import { type Address, keccak256, parseEventLogs, toHex } from "viem";
import { UntrustedServerError } from "../../../sdk/src/client/index.js";
import { getChannel } from "../../../sdk/src/channel/getChannel.js";
import { tollgateEscrowAbi } from "../../../sdk/src/generated/tollgateEscrowAbi.js";
import { meteredEventStream } from "../../../sdk/src/server/index.js";
import { buyer, capError, clientSuite, credentialAction, PRICE, problem, recordingFetch, type Seller, transactionsSince, USDC } from "./fixture.js";

describe("client e2e: a hostile seller", function () {
  this.timeout(120_000);
  const suite = clientSuite();
  const { seller, hostile, freshBuyer } = suite;

  const opened = async (fromBlock: bigint) =>
    parseEventLogs({ abi: tollgateEscrowAbi, eventName: "ChannelOpened", logs: await suite.chain.publicClient.getLogs({ address: suite.chain.escrow, fromBlock: fromBlock + 1n }) }).length;

  /** A buyer with two photos charged and a third signed for but released (the seller's handler failed). */
  async function buyerWithAReleasedCharge() {
    let fail = false;
    const honest = await seller({
      handler: async () => {
        if (fail) throw new Error("the photo service is down");
        return Response.json({ photo: true });
      },
    });
    const fetch = recordingFetch();
    const pay = buyer(suite.chain, await freshBuyer(), { fetch });
    for (let i = 0; i < 2; i++) assert.equal((await pay(honest.url)).status, 200);
    fail = true;
    assert.equal((await pay(honest.url)).status, 500);
    const [channel] = await pay.channels();
    assert.equal(channel!.cumulativeAmount, 3n * PRICE);
    assert.equal(channel!.spent, 2n * PRICE);
    return { honest, pay, fetch, channel: channel! };
  }

  it("test_client_aHugeRequiredCumulativeIsRefusedWithNothingSigned", async function () {
    const honest = await seller();
    let lie = false;
    // After two honest photos, the seller claims the third needs the buyer's whole deposit cap.
    const liar = await hostile(honest, async (request, answer) =>
      lie && credentialAction(request) === "voucher" ? problem(honest, 402, "session/insufficient-balance", { requiredCumulative: (10n * USDC).toString() }) : answer(),
    );
    const account = await freshBuyer();
    const fetch = recordingFetch();
    const pay = buyer(suite.chain, account, { fetch });
    for (let i = 0; i < 2; i++) assert.equal((await pay(liar.url)).status, 200);
    const [before] = await pay.channels();
    const signed = account.signed.typedData.length;
    const fromBlock = await suite.chain.publicClient.getBlockNumber({ cacheTime: 0 });
    lie = true;
    await assert.rejects(pay(liar.url), capError("maxUnitsPerRequest"));
    // Only the ordinary voucher for the third photo was signed; no top-up, nothing near the demand.
    assert.ok(account.signed.typedData.length <= signed + 1);
    assert.equal(await transactionsSince(suite.chain, fromBlock), 0);
    const [after] = await pay.channels();
    assert.equal(after!.deposit, before!.deposit);
    assert.equal(after!.cumulativeAmount, 3n * PRICE);
    assert.ok(fetch.sent.every((sent) => (sent.cumulativeAmount ?? 0n) <= 3n * PRICE));
  });

  it("test_client_aRequiredCumulativeWithinTheUnitCapIsPaid", async function () {
    // A route charging three units a request: the default cap (one unit) refuses it, maxUnitsPerRequest 3 pays it.
    const honest = await seller({ route: { units: () => 3n } });
    const account = await freshBuyer();
    await assert.rejects(buyer(suite.chain, account)(honest.url), capError("maxUnitsPerRequest"));
    const pay = buyer(suite.chain, await freshBuyer(), { maxUnitsPerRequest: 3n });
    for (let i = 0; i < 2; i++) assert.equal((await pay(honest.url)).status, 200);
    assert.equal(await pay.totalSpent(), 6n * PRICE);
    assert.equal(await pay.totalAuthorized(), 6n * PRICE);
  });

  it("test_client_aStreamDemandAboveTheStepCapEndsTheStreamWithNothingSigned", async function () {
    const honest = await seller({ route: { units: () => 0n } });
    // The seller's stream asks at once for a voucher of the whole deposit cap.
    const liar = await hostile(honest, async (request, answer) => {
      const response = await answer();
      if (request.method !== "GET" || response.status !== 200) return response;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(`event: payment-need-voucher\ndata: ${JSON.stringify({ requiredCumulative: (10n * USDC).toString() })}\n\n`));
        },
      });
      return new Response(body, { status: 200, headers: { ...Object.fromEntries(response.headers), "content-type": "text/event-stream" } });
    });
    const account = await freshBuyer();
    const fetch = recordingFetch();
    const pay = buyer(suite.chain, account, { fetch });
    const response = await pay(liar.url);
    assert.equal(response.status, 200);
    const signed = account.signed.typedData.length;
    const transactions = account.signed.transactions;
    await assert.rejects(response.text(), capError("maxUnitsPerRequest"));
    assert.equal(account.signed.typedData.length, signed, "nothing signed for the demand");
    assert.equal(account.signed.transactions, transactions);
    assert.equal(fetch.sent.length, 1, "only the open");
    assert.equal(await pay.totalAuthorized(), PRICE);
  });

  it("test_client_maxUnitsPerStreamEndsAnHonestStreamAtTheCap", async function () {
    const TOKEN = 1_000n;
    const honest: Seller = await seller({
      path: "/v1/completions",
      route: { amount: TOKEN, unitType: "llm_token", suggestedDeposit: 100n * TOKEN, units: () => 0n },
      handler: (request, payment) =>
        meteredEventStream({
          gate: honest.gate,
          payment: payment.method === "session" ? payment : assert.fail("a metered stream is paid from a session"),
          price: TOKEN,
          signal: request.signal,
          voucherTimeout: 30_000,
          pollInterval: 50,
          source: (async function* () {
            for (let token = 1; token <= 10; token++) yield `token-${token}`;
          })(),
        }),
    });
    const account = await freshBuyer();
    const fetch = recordingFetch();
    const pay = buyer(suite.chain, account, { fetch, maxUnitsPerStream: 4n });
    const response = await pay(honest.url);
    assert.equal(response.status, 200);
    await assert.rejects(response.text(), capError("maxUnitsPerStream"));
    assert.equal(await pay.totalAuthorized(), 4n * TOKEN);
    assert.ok(fetch.sent.every((sent) => (sent.cumulativeAmount ?? 0n) <= 4n * TOKEN));
  });

  it("test_client_aFakeChannelNotFoundOpensNoSecondChannel", async function () {
    const honest = await seller();
    let lie = false;
    const liar = await hostile(honest, async (request, answer) =>
      lie && credentialAction(request) === "voucher" ? problem(honest, 410, "session/channel-not-found") : answer(),
    );
    const account = await freshBuyer();
    const pay = buyer(suite.chain, account);
    assert.equal((await pay(liar.url)).status, 200);
    const fromBlock = await suite.chain.publicClient.getBlockNumber({ cacheTime: 0 });
    lie = true;
    // The chain shows the channel open: the seller's claim is refused, and no other channel is opened.
    for (let i = 0; i < 2; i++) await assert.rejects(pay(liar.url), UntrustedServerError);
    assert.equal(await opened(fromBlock), 0);
    assert.equal(await transactionsSince(suite.chain, fromBlock), 0);
    const channels = await pay.channels();
    assert.equal(channels.length, 1);
    assert.equal(channels[0]!.status, "open");
  });

  it("test_client_aFakeChannelFinalizedOnAnOpenOpensNoSecondChannel", async function () {
    const honest = await seller();
    // Every open is taken (so its deposit is on-chain), and every paid request is answered as if the channel were finalized.
    const liar = await hostile(honest, async (request, answer) => {
      const action = credentialAction(request);
      if (action === "open") await answer();
      return action === undefined ? answer() : problem(honest, 410, "session/channel-finalized");
    });
    const account = await freshBuyer();
    const fromBlock = await suite.chain.publicClient.getBlockNumber({ cacheTime: 0 });
    const pay = buyer(suite.chain, account);
    await assert.rejects(pay(liar.url), UntrustedServerError);
    await assert.rejects(pay(liar.url), UntrustedServerError);
    assert.equal(await opened(fromBlock), 1, "one channel, for two requests");
  });

  it("test_client_aChannelTheChainShowsFinalizedIsReplaced", async function () {
    // The honest case: the seller closed the channel on-chain; the chain agrees, so the client opens a new one.
    const honest = await seller();
    const account = await freshBuyer();
    const pay = buyer(suite.chain, account);
    assert.equal((await pay(honest.url)).status, 200);
    const [first] = await pay.channels();
    await honest.gate.closeChannel(first!.channelId);
    const response = await pay(honest.url);
    assert.equal(response.status, 200, await response.clone().text());
    const channels = await pay.channels();
    assert.deepEqual(channels.map((channel) => [channel.channelId === first!.channelId, channel.status]).sort(), [[false, "open"], [true, "closed"]]);
  });

  it("test_client_aRelayedOpenTheSellerDisownsOpensNoSecondChannel", async function () {
    const honest = await seller({ gate: { feePayer: true }, route: { suggestedDeposit: 10n * USDC } });
    // The seller takes nothing: every open it is sent is answered as an unknown channel.
    const liar = await hostile(honest, async (request, answer) => (credentialAction(request) === "open" ? problem(honest, 410, "session/channel-not-found") : answer()));
    const account = await freshBuyer();
    const pay = buyer(suite.chain, account, { maxTotalDeposit: 100n * USDC });
    // The chain does not show the channel (the authorization was never submitted): it is abandoned, and
    // this request opens no other.
    await assert.rejects(pay(liar.url), UntrustedServerError);
    assert.deepEqual((await pay.channels()).map((channel) => channel.status), ["abandoned"]);
    const opens = () => account.signed.typedData.filter((type) => type !== "Voucher").length;
    assert.equal(opens(), 1);
    // With the default cap (one maxDeposit), the abandoned channel's deposit (its authorization may still
    // be submitted) leaves no room for another.
    const capped = buyer(suite.chain, account);
    await assert.rejects(capped(liar.url), UntrustedServerError);
    await assert.rejects(capped(liar.url), capError("maxTotalDeposit"));
    assert.equal(opens(), 2, "one open per client: the second client's first request, then nothing");
  });

  it("test_client_maxTotalDepositBoundsWhatAllChannelsEscrow", async function () {
    // Two sellers each suggest the buyer's whole deposit cap: by default only one maxDeposit is escrowed in all.
    const first = await seller({ route: { suggestedDeposit: 10n * USDC } });
    const second = await seller({ path: "/api/other", gate: { account: suite.chain.account(9) }, route: { suggestedDeposit: 10n * USDC } });
    const account = await freshBuyer();
    const pay = buyer(suite.chain, account);
    assert.equal((await pay(first.url)).status, 200);
    const fromBlock = await suite.chain.publicClient.getBlockNumber({ cacheTime: 0 });
    const signed = account.signed.typedData.length;
    await assert.rejects(pay(second.url), capError("maxTotalDeposit"));
    assert.equal(await transactionsSince(suite.chain, fromBlock), 0);
    assert.equal(account.signed.typedData.length, signed);
    // Once the first channel is closed (its deposit refunded), the second seller can be paid.
    await pay.close({ url: first.url });
    assert.equal((await pay(second.url)).status, 200);
    // A larger cap allows both at once.
    const both = buyer(suite.chain, await freshBuyer(), { maxTotalDeposit: 20n * USDC });
    assert.equal((await both(first.url)).status, 200);
    assert.equal((await both(second.url)).status, 200);
  });

  it("test_client_aCurrencyNotAllowedIsRefusedBeforeAnythingIsSent", async function () {
    const rogue: Address = `0x${keccak256(toHex("a rogue token")).slice(26)}`;
    const honest = await seller({ gate: { currency: rogue } });
    const account = await freshBuyer();
    const fetch = recordingFetch();
    const fromBlock = await suite.chain.publicClient.getBlockNumber({ cacheTime: 0 });
    await assert.rejects(buyer(suite.chain, account, { fetch })(honest.url), capError("currency"));
    assert.equal(fetch.requests, 1, "only the unpaid request that drew the 402");
    assert.deepEqual(account.signed, { typedData: [], transactions: 0, messages: 0 });
    assert.equal(await transactionsSince(suite.chain, fromBlock), 0);
    // The chain's known stablecoin is allowed by default; a per-currency cap without the token refuses it too.
    const pay = buyer(suite.chain, account, { maxDeposit: { [suite.chain.token]: 10n * USDC } });
    assert.equal((await pay((await seller()).url)).status, 200);
    await assert.rejects(buyer(suite.chain, account, { currencies: [suite.chain.token, rogue], maxDeposit: { [suite.chain.token]: USDC } })(honest.url), capError("maxDeposit"));
  });

  it("test_client_closeSendsAFinalVoucherForExactlySpent", async function () {
    const { honest, pay, fetch } = await buyerWithAReleasedCharge();
    await pay.close({ url: honest.url });
    const close = fetch.sent.at(-1)!;
    assert.equal(close.action, "close");
    assert.equal(close.cumulativeAmount, 2n * PRICE, "the final voucher is for what was delivered");
    const [closed] = await pay.channels();
    assert.equal(closed!.cumulativeAmount, 3n * PRICE, "the highest voucher signed is still counted");
  });

  it("test_client_closeSettlesOnChainOnlyWhatWasDelivered", async function () {
    // Needs the gate to close with a final voucher >= spent (the server side of the same item).
    const { honest, pay, channel } = await buyerWithAReleasedCharge();
    await pay.close({ url: honest.url });
    const onChain = await getChannel({ client: suite.chain.publicClient, escrow: suite.chain.escrow, channelId: channel.channelId });
    assert.equal(onChain!.finalized, true);
    assert.equal(onChain!.settled, 2n * PRICE);
  });
});
