// The paying fetch's live state (getState / subscribe), which the React hook renders: what is in flight,
// the channels and totals read from its stores, and the last error, against a real gate on the local chain.
import assert from "node:assert/strict";
import {
  type ClientChannelStore,
  createMemoryChannelStore,
  createMemoryPaymentStore,
  type OneTimePaymentStore,
  type PayingFetch,
  type PayingFetchState,
  PaymentCapError,
} from "../../../sdk/src/client/index.js";
import { charge, meteredEventStream } from "../../../sdk/src/server/index.js";
import { buyer, clientSuite, PRICE, readEvents, recordingFetch, type Seller } from "./fixture.js";

/** Every state `pay` reports, from the one it shows now. */
function record(pay: PayingFetch): PayingFetchState[] {
  const states = [pay.getState()];
  pay.subscribe((state) => states.push(state));
  return states;
}

/** The values a counter took, repeats dropped: [0, 1, 0] for one call that was in flight once. */
const steps = (states: PayingFetchState[], key: "paying" | "closing") => states.map((state) => state[key]).filter((value, index, all) => index === 0 || value !== all[index - 1]);

describe("client e2e: the paying fetch's live state", function () {
  this.timeout(120_000);
  const suite = clientSuite();

  it("test_state_aPaidRequestIsInFlightUntilItsResponse_thenTheStateShowsItsChannelAndSpend", async function () {
    const shop = await suite.seller();
    const account = await suite.freshBuyer();
    const store = createMemoryChannelStore();
    const pay = buyer(suite.chain, account, { store });
    const states = record(pay);

    const response = await pay(shop.url);
    assert.equal(response.status, 200);
    // Up to date when the call returns, and the object last reported.
    const after = pay.getState();
    assert.equal(after, states.at(-1));
    assert.equal(after.paying, 0);
    assert.equal(after.totalSpent, PRICE);
    assert.equal(after.totalAuthorized, PRICE);
    assert.equal(after.error, undefined);
    assert.deepEqual(after.channels.map(({ status, spent, cumulativeAmount }) => ({ status, spent, cumulativeAmount })), [{ status: "open", spent: PRICE, cumulativeAmount: PRICE }]);
    assert.equal(after.channels[0]!.sessionKey, undefined, "the state never carries a session key");
    assert.deepEqual(steps(states, "paying"), [0, 1, 0], "in flight once, without flicker");
    // While the request was in flight the open was already on record, not yet charged.
    const during = states.find((state) => state.paying === 1 && state.channels.length === 1);
    assert.ok(during, "no state showed the open channel while the request was in flight");
    assert.equal(during.totalSpent, 0n);
    assert.equal(pay.getState(), pay.getState(), "the same object until something changes");

    // A later client on the same store (a restart) shows the channel once its first read is done.
    const resumed = buyer(suite.chain, account, { store });
    assert.deepEqual(resumed.getState().channels, []);
    const loaded = await new Promise<PayingFetchState>((resolve) => resumed.subscribe(resolve));
    assert.deepEqual(loaded.channels, after.channels);
    assert.equal(loaded.totalSpent, PRICE);
  });

  it("test_state_withoutASubscriber_paidRequestsListNoStore_aSubscriberHasTheTotalsReadAndCurrentAfterEachCall", async function () {
    const shop = await suite.seller();
    // The stores, wrapped to count their listings: the state's reads are what lists them here.
    const listed = { channels: 0, payments: 0 };
    const channels = createMemoryChannelStore();
    const store: ClientChannelStore = { get: (key) => channels.get(key), put: (channel) => channels.put(channel), list: () => (listed.channels++, channels.list()) };
    const paid = createMemoryPaymentStore();
    const payments: OneTimePaymentStore = { add: (payment) => paid.add(payment), update: (payment) => paid.update(payment), list: () => (listed.payments++, paid.list()) };
    const pay = buyer(suite.chain, await suite.freshBuyer(), { store, payments });
    // The open lists the store for the deposit cap; the requests after it, on the open channel, list nothing of their own.
    assert.equal((await pay(shop.url)).status, 200);
    const REQUESTS = 3n;
    listed.channels = listed.payments = 0;
    for (let request = 0n; request < REQUESTS; request++) assert.equal((await pay(shop.url)).status, 200);
    assert.deepEqual(listed, { channels: 0, payments: 0 }, "nobody subscribed, yet the state listed the stores after paid requests");

    // A subscriber has the stale totals read, and then current when each call returns.
    const loaded = await new Promise<PayingFetchState>((resolve) => pay.subscribe(resolve));
    assert.equal(loaded.totalSpent, (1n + REQUESTS) * PRICE);
    listed.channels = 0;
    for (let request = 1n; request <= REQUESTS; request++) {
      assert.equal((await pay(shop.url)).status, 200);
      assert.equal(pay.getState().totalSpent, (1n + REQUESTS + request) * PRICE, "not current when the call returned");
    }
    assert.ok(listed.channels >= REQUESTS, `${listed.channels} listings for ${REQUESTS} paid requests with a subscriber`);
  });

  it("test_state_withoutASubscriber_theCountersAreCurrent_andGetStateHasStaleTotalsReadForALaterCall", async function () {
    const shop = await suite.seller();
    // What getState showed as each request carrying a credential left the client.
    const payingWhenSent: number[] = [];
    const fetch: typeof globalThis.fetch = async (input, init) => {
      if (new Request(input, init).headers.has("authorization")) payingWhenSent.push(pay.getState().paying);
      return globalThis.fetch(input, init);
    };
    const pay = buyer(suite.chain, await suite.freshBuyer(), { fetch });
    assert.equal((await pay(shop.url)).status, 200);
    assert.deepEqual(payingWhenSent, [1], "the request in flight was not counted with nobody subscribed");

    // getState is synchronous: it shows the counters now and the totals of the last read (the one the getState
    // above started, which the in-memory stores answered before the seller's receipt came back), and starts a read.
    const first = pay.getState();
    assert.deepEqual([first.paying, first.closing, first.error, first.totalSpent], [0, 0, undefined, 0n]);
    let polled = first;
    // Each turn lets the in-memory read go on; no clock is involved.
    for (let turn = 0; polled.totalSpent !== PRICE && turn < 1_000; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
      polled = pay.getState();
    }
    assert.deepEqual([polled.totalSpent, polled.totalAuthorized], [PRICE, PRICE], "getState never read the stale totals");
    assert.deepEqual(polled.channels.map(({ spent }) => spent), [PRICE]);
  });

  it("test_state_aOneTimePaymentIsInFlightUntilItsResponse_thenShowsInPaymentsAndSpend", async function () {
    const shop = await suite.seller({ gate: { methods: [charge()] }, handler: async () => Response.json({ photo: true }) });
    // An escrow the client does not trust: it refuses the session and pays the charge offer.
    const pay = buyer(suite.chain, await suite.freshBuyer(), { escrows: ["0x00000000000000000000000000000000000000e5"], currencies: [suite.chain.token] });
    const states = record(pay);

    assert.equal((await pay(shop.url)).status, 200);
    const after = pay.getState();
    assert.deepEqual(steps(states, "paying"), [0, 1, 0]);
    assert.deepEqual(after.payments.map(({ method, amount }) => [method, amount]), [["charge", PRICE]]);
    assert.deepEqual([after.totalSpent, after.totalAuthorized, after.channels], [PRICE, PRICE, []]);
  });

  it("test_state_aCloseIsInFlightUntilItReturns_andLeavesTheChannelClosed", async function () {
    const shop = await suite.seller();
    const pay = buyer(suite.chain, await suite.freshBuyer());
    await pay(shop.url);
    const states = record(pay);

    const { settled } = await pay.close({ url: shop.url });
    assert.equal(settled, PRICE);
    assert.deepEqual(steps(states, "closing"), [0, 1, 0]);
    assert.deepEqual(steps(states, "paying"), [0], "a close is not a payment");
    assert.deepEqual(pay.getState().channels.map(({ status }) => status), ["closed"]);
    assert.equal(pay.getState().totalSpent, PRICE);
  });

  it("test_state_aRefusedPriceIsTheError_nothingIsPaid_andTheNextCallThatSucceedsClearsIt", async function () {
    const shop = await suite.seller();
    const fetch = recordingFetch();
    const pay = buyer(suite.chain, await suite.freshBuyer(), { fetch, maxPricePerUnit: PRICE - 1n });
    const states = record(pay);

    const thrown = await pay(shop.url).then(
      () => assert.fail("the price above the cap was paid"),
      (error: unknown) => error,
    );
    assert.ok(thrown instanceof PaymentCapError);
    assert.equal(thrown.cap, "maxPricePerUnit");
    const state = pay.getState();
    assert.equal(state.error, thrown);
    assert.equal(state.error?.name, "PaymentCapError");
    assert.deepEqual(steps(states, "paying"), [0], "refused before anything was signed: never in flight");
    assert.deepEqual([state.totalSpent, state.totalAuthorized, state.channels, state.payments], [0n, 0n, [], []]);
    assert.deepEqual(fetch.sent, [], "no credential left the client");

    // A request that needs no payment settles fine: the error is the latest call's, so it goes.
    const free = await suite.hostile(shop, async () => new Response("free"));
    assert.equal(await (await pay(free.url)).text(), "free");
    assert.equal(pay.getState().error, undefined);
    assert.deepEqual(steps(states, "paying"), [0], "a request that pays nothing is not in flight either");
  });

  it("test_state_eachVoucherAStreamAsksForIsInFlight_andUnsubscribeStopsTheReports", async function () {
    const TOKENS = 3;
    const streaming: Seller = await suite.seller({
      path: "/v1/completions",
      route: { amount: PRICE, unitType: "llm_token", suggestedDeposit: 100n * PRICE, units: () => 0n },
      handler: (request, payment) =>
        meteredEventStream({
          gate: streaming.gate,
          payment: payment.method === "session" ? payment : assert.fail("a metered stream is paid from a session"),
          price: PRICE,
          signal: request.signal,
          pollInterval: 50,
          source: (async function* () {
            for (let token = 1; token <= TOKENS; token++) yield `token-${token}`;
          })(),
        }),
    });
    const fetch = recordingFetch();
    const pay = buyer(suite.chain, await suite.freshBuyer(), { fetch });
    const states = record(pay);

    const response = await pay(streaming.url);
    const answered = states.length;
    await readEvents(response);
    const midStream = fetch.sent.filter((sent) => sent.method === "HEAD").length;
    assert.ok(midStream > 0, "the stream asked for no voucher");
    // After the response each HEAD voucher was in flight once: 0 → 1 → 0 per voucher.
    assert.deepEqual(steps(states.slice(answered - 1), "paying"), [0, ...Array.from({ length: midStream }, () => [1, 0]).flat()]);
    assert.equal(pay.getState().totalSpent, BigInt(TOKENS) * PRICE);

    const reports = states.length;
    const stop = pay.subscribe(() => assert.fail("reported after unsubscribe"));
    stop();
    await pay.close({ url: streaming.url });
    assert.ok(states.length > reports, "the other listener still hears the close");
  });
});
