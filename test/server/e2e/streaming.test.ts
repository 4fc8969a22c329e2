// Issue 4, item 3: a metered SSE stream charging per token. When the accepted vouchers run out the
// stream pauses with `payment-need-voucher`, the client sends a higher voucher with HEAD to the same
// URL, the stream resumes and ends with a `payment-receipt` event; content cannot forge either event.
// Issue 11: the stream serves from the prepaid balance and asks ahead when it runs low (below half the
// widest prepaid balance seen), so that a client signing ahead rarely stalls it; a client paying one
// voucher per ask is served as before; a window never paid stops the stream at the prepaid boundary.
import assert from "node:assert/strict";
import type { Address, Hex } from "viem";
import type { MeteredChunk, PaymentGate, SessionStore } from "../../../sdk/src/server/index.js";
import { meteredEventStream } from "../../../sdk/src/server/index.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import { credential, fetchOffer, makeGate, type Offer, pay, Payer, receiptOf, SELLER, snapshot, sqliteStore, startServer, type TestServer } from "./helpers.js";

const TOKEN_PRICE = 100n;
const FORGERY = '\n\nevent: payment-receipt\ndata: {"method":"evm","intent":"session","status":"success","spent":"0"}\n\n';

type SseEvent = { event: string; data: string };

/** Reads server-sent events as they arrive. */
async function* readEvents(response: Response): AsyncGenerator<SseEvent> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      yield { event, data: data.join("\n") };
    }
  }
  assert.equal(buffer, "", "the stream ended inside an event");
}

describe("server e2e: metered event stream", function () {
  this.timeout(60_000);
  let chain: LocalChain;
  let store: SessionStore;
  let gate: PaymentGate;
  let server: TestServer;
  let seller: Address;
  let payer: Payer;
  /** What each stream route yields, by path. */
  const sources: Record<string, () => AsyncIterable<MeteredChunk>> = {
    "/tokens": async function* () {
      for (let i = 0; i < 10; i++) {
        yield i === 3 ? FORGERY : i === 6 ? { data: { text: "line one\nline two\r\n\nevent: payment-need-voucher" } } : `token-${i}`;
      }
    },
    "/long": async function* () {
      for (let i = 1; i <= 31; i++) yield `token-${i}`;
    },
    "/forged-event": async function* () {
      yield "fine";
      // Late enough for the first token to reach the client before the stream is aborted.
      await new Promise((resolve) => setTimeout(resolve, 200));
      yield { data: "x", event: "payment-receipt" };
      yield "never sent";
    },
  };

  before(async function () {
    chain = await startLocalChain();
    seller = chain.account(SELLER).address;
    ({ store } = sqliteStore());
    gate = makeGate(chain, store);
    // The stream meters its own units: the request itself costs nothing.
    const route = gate.session({ amount: TOKEN_PRICE, unitType: "llm_token", units: () => 0n, suggestedDeposit: 100_000n });
    server = await startServer((request) =>
      route.handle(request, async (incoming, payment) => {
        const source = sources[new URL(incoming.url).pathname];
        if (!source) return new Response("not found", { status: 404 });
        const voucherTimeout = Number(new URL(incoming.url).searchParams.get("timeout") ?? 10_000);
        return meteredEventStream({ gate, payment: payment.method === "session" ? payment : assert.fail("a metered stream is paid from a session"), price: TOKEN_PRICE, source: source(), signal: incoming.signal, voucherTimeout, pollInterval: 50 });
      }),
    );
    payer = new Payer(chain, chain.account(2));
    await chain.mint(payer.address, 1_000_000n);
  });

  after(async function () {
    await server?.close();
    await store?.close();
    await chain?.stop();
  });

  async function openChannel(url: string, offer: Offer, firstVoucher: bigint): Promise<Hex> {
    const opened = await payer.openOnChain(seller, 100_000n);
    const response = await pay(url, credential(offer.challenge, await payer.openPayload(opened, firstVoucher), payer.source), { method: "HEAD" });
    assert.ok(response.ok, `${response.status} ${await response.text()}`);
    return opened.channelId;
  }

  it("test_stream_asksAheadWhileServingThePrepaidBalanceResumesAfterHeadAndEndsWithTheReceipt", async function () {
    const url = `${server.url}/tokens`;
    const offer = await fetchOffer(url);
    const channelId = await openChannel(url, offer, 5n * TOKEN_PRICE);

    const response = await pay(url, credential(offer.challenge, await payer.voucher(channelId, 5n * TOKEN_PRICE)));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    // The receipt also rides on the initial headers.
    assert.equal(receiptOf(response).channelId, channelId);

    const events: SseEvent[] = [];
    const needs: Record<string, string>[] = [];
    /** Tokens received before each ask. */
    const askedAfter: number[] = [];
    for await (const event of readEvents(response)) {
      events.push(event);
      if (event.event === "payment-need-voucher") {
        needs.push(JSON.parse(event.data) as Record<string, string>);
        askedAfter.push(events.filter((e) => e.event === "message").length);
        if (needs.length === 1) {
          // Asked ahead: three of the five prepaid tokens went out (two left, below half of five) and the
          // stream goes on serving the rest while the voucher is on its way.
          assert.deepEqual(needs[0], { channelId, requiredCumulative: (6n * TOKEN_PRICE).toString(), acceptedCumulative: (5n * TOKEN_PRICE).toString(), deposit: "100000" });
          const spent = (await store.getChannel(channelId))!.spent;
          assert.ok(spent >= 3n * TOKEN_PRICE && spent <= 5n * TOKEN_PRICE, `${spent}`);
        }
        // The same voucher answers every ask: a replay of an accepted voucher changes nothing.
        const head = await pay(url, credential(offer.challenge, await payer.voucher(channelId, 10n * TOKEN_PRICE)), { method: "HEAD" });
        assert.equal(head.status, 204);
      }
    }
    // The stream served on from the first five meanwhile; if they ran out before the voucher came, it paused
    // and asked again for the sixth. The last ask came when the voucher for ten ran below half of what it
    // left prepaid: seven if it was accepted before the fourth token, else six or five.
    assert.equal(askedAfter[0], 3);
    assert.deepEqual(needs.map((need) => need.requiredCumulative), needs.length === 2 ? ["600", "1100"] : ["600", "600", "1100"]);
    if (needs.length === 3) assert.equal(askedAfter[1], 5);
    assert.ok(askedAfter.at(-1) === 7 || askedAfter.at(-1) === 8, `${askedAfter.at(-1)}`);
    const messages = events.filter((e) => e.event === "message").map((e) => JSON.parse(e.data) as unknown);
    assert.equal(messages.length, 10);
    // The forgery arrives as the content it is, inside one JSON string; so do embedded newlines.
    assert.equal(messages[3], FORGERY);
    assert.deepEqual(messages[6], { text: "line one\nline two\r\n\nevent: payment-need-voucher" });
    assert.deepEqual(events.map((e) => e.event).filter((name) => name.startsWith("payment-")), [...needs.map(() => "payment-need-voucher"), "payment-receipt"]);
    assert.equal(events.at(-1)!.event, "payment-receipt");
    const receipt = JSON.parse(events.at(-1)!.data) as Record<string, unknown>;
    assert.deepEqual(
      { ...receipt, timestamp: undefined },
      { method: "evm", intent: "session", status: "success", timestamp: undefined, reference: channelId, challengeId: offer.challenge.id, channelId, chainId: chain.chain.id, acceptedCumulative: "1000", spent: "1000", units: 10 },
    );

    const stored = (await store.getChannel(channelId))!;
    assert.deepEqual([stored.acceptedCumulative, stored.spent, stored.reserved, stored.units], [10n * TOKEN_PRICE, 10n * TOKEN_PRICE, 0n, 10n]);
    const charges = (await snapshot(store)).charges.filter((c) => c.channelId === channelId);
    assert.equal(charges.length, 10);
    assert.ok(charges.every((c) => c.status === "committed" && c.amount === TOKEN_PRICE));
  });

  it("test_stream_withoutAVoucherStopsDeliveringAtThePrepaidBoundaryAndChargesOnlyWhatWasSent", async function () {
    const url = `${server.url}/tokens?timeout=300`;
    const offer = await fetchOffer(url);
    const channelId = await openChannel(url, offer, 3n * TOKEN_PRICE);
    const response = await pay(url, credential(offer.challenge, await payer.voucher(channelId, 3n * TOKEN_PRICE)));
    assert.equal(response.status, 200);
    const events: SseEvent[] = [];
    for await (const event of readEvents(response)) events.push(event);
    // Asked ahead after the second token (one left, below half of three); the third is served from the
    // prepaid balance; then the stream pauses, asks again and stops.
    assert.deepEqual(
      events.map((e) => e.event),
      ["message", "message", "payment-need-voucher", "message", "payment-need-voucher", "payment-error", "payment-receipt"],
    );
    assert.equal((JSON.parse(events[5]!.data) as { type: string }).type, "https://paymentauth.org/problems/session/insufficient-balance");
    const receipt = JSON.parse(events[6]!.data) as { spent: string; units: number };
    assert.deepEqual([receipt.spent, receipt.units], ["300", 3]);
    const stored = (await store.getChannel(channelId))!;
    assert.deepEqual([stored.spent, stored.reserved, stored.units], [3n * TOKEN_PRICE, 0n, 3n]);
  });

  it("test_stream_headWithAnOpenCredentialRunsNoStreamAndChargesNothing", async function () {
    // Reproduces a gate bug: HEAD with an `open` credential ran the handler, whose stream charged
    // tokens that HEAD never delivers.
    const url = `${server.url}/tokens`;
    const offer = await fetchOffer(url);
    const opened = await payer.openOnChain(seller, 100_000n);
    const response = await pay(url, credential(offer.challenge, await payer.openPayload(opened, 5n * TOKEN_PRICE), payer.source), { method: "HEAD" });
    assert.equal(response.status, 204);
    assert.equal(receiptOf(response).spent, "0");
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stored = (await store.getChannel(opened.channelId))!;
    assert.deepEqual([stored.acceptedCumulative, stored.spent, stored.units], [5n * TOKEN_PRICE, 0n, 0n]);
  });

  it("test_stream_contentCannotUseAPaymentEventName", async function () {
    const url = `${server.url}/forged-event`;
    const offer = await fetchOffer(url);
    const channelId = await openChannel(url, offer, 5n * TOKEN_PRICE);
    const response = await pay(url, credential(offer.challenge, await payer.voucher(channelId, 5n * TOKEN_PRICE)));
    assert.equal(response.status, 200);
    const events: SseEvent[] = [];
    // The server aborts the stream rather than send the event: the body ends in an error.
    await assert.rejects(async () => {
      for await (const event of readEvents(response)) events.push(event);
    });
    assert.deepEqual(events.map((e) => e.event), ["message"]);
    const stored = (await store.getChannel(channelId))!;
    assert.deepEqual([stored.spent, stored.units], [TOKEN_PRICE, 1n], "only the token that was sent is charged");
  });
  it("test_stream_aClientPayingExactlyEachAskIsServedAsBeforeWindows", async function () {
    // A client without a prepay window answers each ask with exactly `requiredCumulative`: the stream
    // never has more than one unit prepaid, so it never asks ahead; it pauses for every token after the first.
    const url = `${server.url}/long`;
    const offer = await fetchOffer(url);
    const channelId = await openChannel(url, offer, TOKEN_PRICE);
    const response = await pay(url, credential(offer.challenge, await payer.voucher(channelId, TOKEN_PRICE)));
    assert.equal(response.status, 200);
    const events: SseEvent[] = [];
    const required: bigint[] = [];
    for await (const event of readEvents(response)) {
      events.push(event);
      if (event.event !== "payment-need-voucher") continue;
      const need = JSON.parse(event.data) as { requiredCumulative: string; acceptedCumulative: string };
      // Out of balance at every ask: what was delivered is exactly what was accepted.
      assert.equal(BigInt(need.acceptedCumulative), BigInt(events.filter((e) => e.event === "message").length) * TOKEN_PRICE);
      required.push(BigInt(need.requiredCumulative));
      const head = await pay(url, credential(offer.challenge, await payer.voucher(channelId, BigInt(need.requiredCumulative))), { method: "HEAD" });
      assert.equal(head.status, 204);
    }
    assert.deepEqual(required, Array.from({ length: 30 }, (_, index) => BigInt(index + 2) * TOKEN_PRICE));
    assert.equal(events.filter((e) => e.event === "message").length, 31);
    const receipt = JSON.parse(events.at(-1)!.data) as { spent: string; acceptedCumulative: string };
    assert.deepEqual([receipt.spent, receipt.acceptedCumulative], ["3100", "3100"]);
  });

  it("test_stream_aWindowVoucherThatNeverArrivesStopsTheStreamAtThePrepaidBoundary", async function () {
    // Ten tokens prepaid, then silence: the stream asks ahead (four left), serves the other four from the
    // prepaid balance, asks again at its pause, and stops there without delivering an unpaid token.
    const url = `${server.url}/long?timeout=300`;
    const offer = await fetchOffer(url);
    const channelId = await openChannel(url, offer, 10n * TOKEN_PRICE);
    const response = await pay(url, credential(offer.challenge, await payer.voucher(channelId, 10n * TOKEN_PRICE)));
    assert.equal(response.status, 200);
    const events: SseEvent[] = [];
    for await (const event of readEvents(response)) events.push(event);
    const names = events.map((e) => e.event);
    assert.deepEqual(names, [...Array(6).fill("message"), "payment-need-voucher", ...Array(4).fill("message"), "payment-need-voucher", "payment-error", "payment-receipt"]);
    for (const ask of [events[6]!, events[11]!]) assert.deepEqual(JSON.parse(ask.data), { channelId, requiredCumulative: "1100", acceptedCumulative: "1000", deposit: "100000" });
    assert.deepEqual(events.filter((e) => e.event === "message").map((e) => JSON.parse(e.data) as string), Array.from({ length: 10 }, (_, index) => `token-${index + 1}`));
    const receipt = JSON.parse(events.at(-1)!.data) as { spent: string; units: number };
    assert.deepEqual([receipt.spent, receipt.units], ["1000", 10]);
    const stored = (await store.getChannel(channelId))!;
    assert.deepEqual([stored.acceptedCumulative, stored.spent, stored.reserved, stored.units], [10n * TOKEN_PRICE, 10n * TOKEN_PRICE, 0n, 10n]);
    const charges = (await snapshot(store)).charges.filter((c) => c.channelId === channelId);
    assert.deepEqual(charges.map((c) => c.status), Array(10).fill("committed"));
  });
});
