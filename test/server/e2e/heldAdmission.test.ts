// Issue 12, one write per request: a plain voucher on a channel the gate knows is admitted from the gate's
// own view of the channel (nothing stored), and the voucher and the charge are written once the handler
// answered, checked again then against the channel as stored. Another instance sharing the store can make
// that view stale: the attacks here show a stale view costs a refused response (the handler's work), never
// an unpaid one. Real gates, HTTP servers, chain and SQLite file.
import assert from "node:assert/strict";
import type { Hex } from "viem";
import type { ChannelTransaction, SessionStore } from "../../../sdk/src/server/index.js";
import { createSqliteStore } from "../../../sdk/src/server/sqlite.js";
import { credential, expectProblem, fetchOffer, makeGate, type Offer, pay, receiptOf, sellerChain, SESSION_PROBLEMS, sqliteStore, startServer } from "./helpers.js";

const PRICE = 1_000n;

/** A store whose writes (`withChannel` calls) are counted. */
function countingWrites(store: SessionStore) {
  let writes = 0;
  const counted: SessionStore = Object.create(store);
  counted.withChannel = <T>(channelId: Hex, fn: (tx: ChannelTransaction) => Promise<T>) => (writes++, store.withChannel(channelId, fn));
  return { store: counted, writes: () => writes };
}

/** A store whose writes wait, while `hold()` is on, and then all start in one turn: one SQLite batch. */
function gatedWrites(store: SessionStore) {
  let gate: Promise<void> | undefined;
  let open = () => undefined as void;
  let waiting = 0;
  const gated: SessionStore = Object.create(store);
  gated.withChannel = async <T>(channelId: Hex, fn: (tx: ChannelTransaction) => Promise<T>) => {
    if (gate) {
      waiting++;
      await gate;
    }
    return store.withChannel(channelId, fn);
  };
  return {
    store: gated,
    waiting: () => waiting,
    hold: () => void (gate = new Promise<void>((resolve) => (open = resolve))),
    release: () => {
      gate = undefined;
      open();
    },
  };
}

describe("server e2e: admission in process, one write per request", function () {
  this.timeout(60_000);
  const suite = sellerChain();

  /** A gate and server on `store`; its handler records what it saw and may wait for `gate`. */
  async function instance(store: SessionStore) {
    const gate = makeGate(suite.chain, store);
    const route = gate.session({ amount: PRICE, suggestedDeposit: 100n * PRICE });
    const served: { reserved: bigint; storedReserved: bigint; storedReservations: number }[] = [];
    let hold: Promise<void> | undefined;
    const server = await startServer((request) =>
      route.handle(request, async (_, payment) => {
        assert.equal(payment.method, "session");
        const stored = (await store.getChannel(payment.channelId))!;
        served.push({ reserved: payment.channel.reserved, storedReserved: stored.reserved, storedReservations: (await store.listCharges({ status: "reserved" })).length });
        await hold;
        return Response.json({ served: true });
      }),
    );
    suite.servers.push(server);
    const url = `${server.url}/item`;
    return { gate, url, served, holdWith: (promise: Promise<void> | undefined) => void (hold = promise), offer: await fetchOffer(url) };
  }

  /** Opens a channel of `deposit` through `url` and pays one request on it: the gate now knows the channel. */
  async function knownChannel({ url, offer }: { url: string; offer: Offer }, deposit: bigint): Promise<Hex> {
    const opened = await suite.payer.openOnChain(suite.seller, deposit);
    const response = await pay(url, credential(offer.challenge, await suite.payer.openPayload(opened, PRICE), suite.payer.source));
    assert.equal(response.status, 200, await response.clone().text());
    return opened.channelId;
  }

  /** Two gates on one SQLite file; a channel A served one request on. */
  async function twoInstancesOnAKnownChannel() {
    const { path } = sqliteStore();
    const storeA = createSqliteStore({ path });
    const storeB = createSqliteStore({ path });
    suite.stores.push(storeA, storeB);
    const a = await instance(storeA);
    const b = await instance(storeB);
    return { a, b, storeA, channelId: await knownChannel(a, 100n * PRICE) };
  }

  const voucher = async (offer: Offer, channelId: Hex, cumulative: bigint) => credential(offer.challenge, await suite.payer.voucher(channelId, cumulative));

  it("test_heldAdmission_plainVoucherOnAKnownChannelIsChargedWithOneWrite", async () => {
    const { store: file } = sqliteStore();
    suite.stores.push(file);
    const { store, writes } = countingWrites(file);
    const gate = await instance(store);
    const channelId = await knownChannel(gate, 100n * PRICE);
    for (let i = 2n; i <= 4n; i++) {
      const before = writes();
      const response = await pay(gate.url, await voucher(gate.offer, channelId, i * PRICE));
      assert.equal(response.status, 200);
      assert.equal(receiptOf(response).spent, String(i * PRICE));
      assert.equal(writes() - before, 1, `request ${i}: one write`);
      // The handler ran with the cost held in process: nothing reserved in the store.
      assert.deepEqual(gate.served.at(-1), { reserved: PRICE, storedReserved: 0n, storedReservations: 0 });
    }
    const channel = (await file.getChannel(channelId))!;
    assert.deepEqual([channel.acceptedCumulative, channel.spent, channel.reserved, channel.units], [4n * PRICE, 4n * PRICE, 0n, 4n]);
    assert.equal((await file.listCharges({ status: "committed", channelId })).length, 4);
  });

  it("test_heldAdmission_concurrentCopiesOfOneVoucherRunTheHandlerOnlyForWhatItPays", async () => {
    const { store } = sqliteStore();
    suite.stores.push(store);
    const gate = await instance(store);
    const channelId = await knownChannel(gate, 100n * PRICE);
    // Three requests' worth on one voucher, ten copies at once, all held in their handlers together.
    let open!: () => void;
    gate.holdWith(new Promise<void>((resolve) => (open = resolve)));
    const copy = await voucher(gate.offer, channelId, 4n * PRICE);
    const servedBefore = gate.served.length;
    const responses = Array.from({ length: 10 }, () => pay(gate.url, copy));
    await new Promise((resolve) => setTimeout(resolve, 300));
    open();
    const statuses = (await Promise.all(responses)).map((response) => response.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 402, 402, 402, 402, 402, 402, 402]);
    assert.equal(gate.served.length - servedBefore, 3, "the handler runs only for the requests the voucher pays for");
    const channel = (await store.getChannel(channelId))!;
    assert.deepEqual([channel.acceptedCumulative, channel.spent, channel.reserved], [4n * PRICE, 4n * PRICE, 0n]);
  });

  it("test_heldAdmission_chargeAndAStoredAdmissionInOneBatchCountTheCostOnce", async () => {
    // A request held in process is charged in the same transaction as another request's admission in the
    // store (keyed: reserved in the store): the second must not count the first's cost twice, once
    // charged and once still held. It did: the second was refused with 402.
    const { store: file } = sqliteStore();
    suite.stores.push(file);
    const writes = gatedWrites(file);
    const gate = await instance(writes.store);
    const channelId = await knownChannel(gate, 100n * PRICE);
    writes.hold();
    const held = pay(gate.url, await voucher(gate.offer, channelId, 2n * PRICE));
    while (writes.waiting() < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    const keyed = pay(gate.url, await voucher(gate.offer, channelId, 3n * PRICE), { headers: { "idempotency-key": "second" } });
    while (writes.waiting() < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    writes.release();
    const responses = await Promise.all([held, keyed]);
    assert.deepEqual(
      await Promise.all(responses.map(async (response) => [response.status, response.status === 200 ? "" : await response.text()])),
      [
        [200, ""],
        [200, ""],
      ],
    );
    const channel = (await file.getChannel(channelId))!;
    assert.deepEqual([channel.acceptedCumulative, channel.spent, channel.reserved], [3n * PRICE, 3n * PRICE, 0n]);
  });

  it("test_heldAdmission_staleViewOfAnotherInstanceServesNothingUnpaid", async () => {
    const { a, b, storeA, channelId } = await twoInstancesOnAKnownChannel();
    // B learns the channel too, then spends the voucher's last unit: A's view still shows it free.
    assert.equal((await pay(b.url, await voucher(b.offer, channelId, 2n * PRICE))).status, 200);
    const stale = await pay(a.url, await voucher(a.offer, channelId, 2n * PRICE));
    const problem = await expectProblem(stale, 402, `${SESSION_PROBLEMS}insufficient-balance`);
    assert.equal(problem.requiredCumulative, String(3n * PRICE));
    assert.equal(a.served.length, 2, "A ran its handler on its stale view, and answered with a problem instead of its content");
    let channel = (await storeA.getChannel(channelId))!;
    assert.deepEqual([channel.acceptedCumulative, channel.spent, channel.units], [2n * PRICE, 2n * PRICE, 2n]);
    // Refused, A reads the store again: the client's higher voucher is served and charged once.
    const paid = await pay(a.url, await voucher(a.offer, channelId, 3n * PRICE));
    assert.equal(paid.status, 200);
    channel = (await storeA.getChannel(channelId))!;
    assert.deepEqual([channel.acceptedCumulative, channel.spent, channel.units], [3n * PRICE, 3n * PRICE, 3n]);
  });

  it("test_heldAdmission_channelClosedByAnotherInstanceServesNothingAfterTheClose", async () => {
    const { a, b, storeA, channelId } = await twoInstancesOnAKnownChannel();
    await b.gate.closeChannel(channelId);
    const late = await pay(a.url, await voucher(a.offer, channelId, 2n * PRICE));
    await expectProblem(late, 410, `${SESSION_PROBLEMS}channel-finalized`);
    const channel = (await storeA.getChannel(channelId))!;
    assert.deepEqual([channel.status, channel.spent, channel.units], ["closed", PRICE, 1n]);
    assert.equal((await storeA.listCharges({ status: "committed", channelId })).length, 1);
  });
});
