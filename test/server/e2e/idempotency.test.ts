// Issue 4, item 10: a request retried with the same Idempotency-Key is charged once; in reserve mode (the
// default) a handler answering 5xx or throwing is not billed, while charge mode bills before the handler.
// Issue 8, item 1: a key is bound to the request it paid for (route, method, URL, body, units, cost):
// anything else under it is refused with 422, a copy still in flight with 409, and keys expire.
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import type { Address, Hex } from "viem";
import type { PaymentGate, SessionRoute, SessionStore } from "../../../sdk/src/server/index.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import {
  credential,
  expectProblem,
  fetchOffer,
  makeGate,
  type Offer,
  pay,
  Payer,
  receiptOf,
  SELLER,
  sleep,
  snapshot,
  sqliteStore,
  startServer,
  type TestServer,
} from "./helpers.js";

const PRICE = 1_000n;
const KEY_REUSED = "https://tollgate.dev/problems/idempotency-key-reused";
const KEY_IN_FLIGHT = "https://tollgate.dev/problems/idempotency-key-in-flight";
const DAY = 86_400_000;

describe("server e2e: idempotency keys and unbilled failures", function () {
  this.timeout(60_000);
  let chain: LocalChain;
  let seller: Address;
  let payer: Payer;
  let store: SessionStore;
  let server: TestServer;
  let served = 0;
  let reserveGate: PaymentGate;
  /** The clock of the gate behind /clock/ paths (milliseconds). */
  let clock = Date.now();
  /** Resolves the handlers of /hang requests. */
  const hung: (() => void)[] = [];
  /** What the handler does, by path. */
  const behaviours: Record<string, (request: Request) => Response | Promise<Response>> = {
    "/ok": () => Response.json({ n: ++served }),
    // The handler still reads the body the gate hashed.
    "/echo": async (request) => Response.json({ n: ++served, body: await request.text() }),
    "/fail": () => Response.json({ error: "upstream down" }, { status: 502 }),
    "/missing": () => Response.json({ error: "no such item" }, { status: 404 }),
    "/throw": () => {
      throw new Error("handler bug");
    },
    "/hang": () => new Promise<Response>((resolve) => hung.push(() => resolve(Response.json({ late: true })))),
  };

  before(async function () {
    chain = await startLocalChain();
    seller = chain.account(SELLER).address;
    payer = new Payer(chain, chain.account(2));
    await chain.mint(payer.address, 10_000_000n);
    ({ store } = sqliteStore());
    reserveGate = makeGate(chain, store);
    const chargeGate: PaymentGate = makeGate(chain, store, { chargeMode: "charge" });
    const reserve: SessionRoute = reserveGate.session({ amount: PRICE, suggestedDeposit: 100n * PRICE });
    const charge: SessionRoute = chargeGate.session({ amount: PRICE, suggestedDeposit: 100n * PRICE });
    // Same gate, another price; and a route whose unit count comes from a header.
    const expensive: SessionRoute = reserveGate.session({ amount: 50n * PRICE, suggestedDeposit: 100n * PRICE });
    const metered: SessionRoute = reserveGate.session({ amount: PRICE, unitType: "item", units: (request) => BigInt(request.headers.get("x-units") ?? "1") });
    // A gate whose clock the test moves (keys expire after a day by default).
    const clocked: SessionRoute = makeGate(chain, store, { now: () => clock }).session({ amount: PRICE, suggestedDeposit: 100n * PRICE });
    const minute: SessionRoute = makeGate(chain, store, { now: () => clock, idempotencyKeyTtl: 60 }).session({ amount: PRICE, suggestedDeposit: 100n * PRICE });
    const routes: Record<string, SessionRoute> = { charge, expensive, metered, clock: clocked, minute };
    server = await startServer((request) => {
      const { pathname } = new URL(request.url);
      const prefix = /^\/([a-z]+)(\/.*)$/.exec(pathname);
      const [mode, path] = prefix && routes[prefix[1]!] ? [routes[prefix[1]!]!, prefix[2]!] : [reserve, pathname];
      const behaviour = behaviours[path];
      if (!behaviour) return new Response("not found", { status: 404 });
      return mode.handle(request, async (paid) => behaviour(paid));
    });
  });

  after(async function () {
    await server?.close();
    await store?.close();
    await chain?.stop();
  });

  /** A fresh channel with `accepted` on it (accepted over HEAD: nothing spent yet). */
  async function openWith(accepted: bigint): Promise<{ channelId: Hex; offer: Offer }> {
    const offer = await fetchOffer(`${server.url}/ok`);
    const opened = await payer.openOnChain(seller, 100n * PRICE);
    const open = await pay(`${server.url}/ok`, credential(offer.challenge, await payer.openPayload(opened, accepted), payer.source), { method: "HEAD" });
    assert.equal(open.status, 204);
    return { channelId: opened.channelId, offer };
  }

  const spentOf = async (channelId: Hex) => (await store.getChannel(channelId))!;

  it("test_idempotency_retriedRequestWithTheSameKeyIsChargedOnce", async function () {
    const { channelId, offer } = await openWith(10n * PRICE);
    const voucher = credential(offer.challenge, await payer.voucher(channelId, 10n * PRICE));
    const key = "order-42";
    const first = await pay(`${server.url}/ok`, voucher, { headers: { "idempotency-key": key } });
    assert.equal(first.status, 200);
    const second = await pay(`${server.url}/ok`, voucher, { headers: { "idempotency-key": key } });
    assert.equal(second.status, 200);
    assert.equal(receiptOf(second).spent, String(PRICE));
    let channel = await spentOf(channelId);
    assert.deepEqual([channel.spent, channel.units, channel.reserved], [PRICE, 1n, 0n]);
    const charges = (await snapshot(store)).charges.filter((charge) => charge.channelId === channelId);
    assert.deepEqual(charges.map((charge) => [charge.key, charge.status]), [["idempotency:order-42", "committed"]]);

    // Without a key, or with one that is not a valid key, every request is its own charge.
    for (const headers of [{}, { "idempotency-key": "has spaces in it" }, { "idempotency-key": "x".repeat(256) }] as Record<string, string>[]) {
      assert.equal((await pay(`${server.url}/ok`, voucher, { headers })).status, 200);
      assert.equal((await pay(`${server.url}/ok`, voucher, { headers })).status, 200);
    }
    channel = await spentOf(channelId);
    assert.equal(channel.spent, 7n * PRICE);
  });

  it("test_idempotency_reserveModeDoesNotBillA4xxA5xxOrAThrowingHandler", async function () {
    const { channelId, offer } = await openWith(10n * PRICE);
    const voucher = credential(offer.challenge, await payer.voucher(channelId, 10n * PRICE));

    const failed = await pay(`${server.url}/fail`, voucher, { headers: { "idempotency-key": "retry-me" } });
    assert.equal(failed.status, 502);
    assert.equal(receiptOf(failed).spent, "0");
    const thrown = await pay(`${server.url}/throw`, voucher);
    assert.equal(thrown.status, 500);
    let channel = await spentOf(channelId);
    assert.deepEqual([channel.spent, channel.reserved, channel.units, channel.acceptedCumulative], [0n, 0n, 0n, 10n * PRICE]);
    const charges = (await snapshot(store)).charges.filter((charge) => charge.channelId === channelId);
    assert.deepEqual(charges.map((charge) => charge.status), ["released", "released"]);

    // The same key retried after the failure succeeds and is billed once.
    const retried = await pay(`${server.url}/ok`, voucher, { headers: { "idempotency-key": "retry-me" } });
    assert.equal(retried.status, 200);
    assert.equal(receiptOf(retried).spent, String(PRICE));
    // A 4xx from the handler is not billed either (the default billing rule charges below 400 only).
    const missing = await pay(`${server.url}/missing`, voucher);
    assert.equal(missing.status, 404);
    channel = await spentOf(channelId);
    assert.deepEqual([channel.spent, channel.reserved, channel.units], [PRICE, 0n, 1n]);
  });

  it("test_idempotency_recoverReleasesOnlyReservationsOlderThanAsked", async function () {
    const { channelId, offer } = await openWith(10n * PRICE);
    const voucher = credential(offer.challenge, await payer.voucher(channelId, 10n * PRICE));
    const inFlight = pay(`${server.url}/hang`, voucher, { headers: { "idempotency-key": "slow-1" } });
    while (hung.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    // Another instance starting up must not take a request in flight away from this one.
    assert.deepEqual(await reserveGate.recover({ olderThan: 60_000 }), []);
    assert.equal((await spentOf(channelId)).reserved, PRICE);
    hung.shift()!();
    assert.equal((await inFlight).status, 200);
    assert.deepEqual([(await spentOf(channelId)).spent, (await spentOf(channelId)).reserved], [PRICE, 0n]);

    // At start-up (olderThan 0) every reservation is stale: released, the balance whole again.
    const dying = pay(`${server.url}/hang`, voucher, { headers: { "idempotency-key": "slow-2" } });
    while (hung.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const released = await reserveGate.recover();
    assert.deepEqual(released.map((charge) => [charge.key, charge.status]), [["idempotency:slow-2", "released"]]);
    const after = await spentOf(channelId);
    assert.deepEqual([after.spent, after.reserved], [PRICE, 0n]);
    // (Released under a live request, that request is not billed when it finishes.)
    hung.shift()!();
    assert.equal((await dying).status, 200);
    assert.equal((await spentOf(channelId)).spent, PRICE);
  });

  it("test_idempotency_chargeModeBillsBeforeTheHandler", async function () {
    const { channelId, offer } = await openWith(10n * PRICE);
    const voucher = credential(offer.challenge, await payer.voucher(channelId, 10n * PRICE));
    const failed = await pay(`${server.url}/charge/fail`, voucher, { headers: { "idempotency-key": "c-1" } });
    assert.equal(failed.status, 502);
    assert.equal(receiptOf(failed).spent, String(PRICE));
    // Retried with its key, it is not billed again.
    const retried = await pay(`${server.url}/charge/fail`, voucher, { headers: { "idempotency-key": "c-1" } });
    assert.equal(retried.status, 502);
    assert.equal(receiptOf(retried).spent, String(PRICE));
    const channel = await spentOf(channelId);
    assert.deepEqual([channel.spent, channel.reserved], [PRICE, 0n]);
  });

  /** Sends `init` to `path` under `key` with a voucher for `cumulative` on the challenge of `offer`. */
  async function send(path: string, offer: Offer, channelId: Hex, cumulative: bigint, key: string, init: RequestInit = {}) {
    const headers = new Headers(init.headers);
    headers.set("idempotency-key", key);
    return pay(`${server.url}${path}`, credential(offer.challenge, await payer.voucher(channelId, cumulative)), { ...init, headers });
  }

  it("test_idempotency_keyThatPaidACheapRequestIsRefusedOnAMoreExpensiveRoute", async function () {
    const { channelId, offer } = await openWith(10n * PRICE);
    assert.equal((await send("/ok", offer, channelId, 10n * PRICE, "cheap-1")).status, 200);
    const before = await snapshot(store);
    const servedBefore = served;
    const expensiveOffer = await fetchOffer(`${server.url}/expensive/ok`);
    // A voucher that would cover the expensive request: the key alone must not buy it.
    const reused = await send("/expensive/ok", expensiveOffer, channelId, 60n * PRICE, "cheap-1");
    const problem = await expectProblem(reused, 422, KEY_REUSED);
    assert.equal(problem.channelId, channelId);
    assert.equal(served, servedBefore, "the handler ran under a reused key");
    assert.deepEqual(await snapshot(store), before);
  });

  it("test_idempotency_keyReusedForAnotherUrlBodyMethodOrUnitCountIsRefused", async function () {
    const { channelId, offer } = await openWith(10n * PRICE);
    const meteredOffer = await fetchOffer(`${server.url}/metered/echo`);
    const post = { method: "POST", body: "order=1" };
    assert.equal((await send("/echo", offer, channelId, 10n * PRICE, "k-url")).status, 200);
    assert.equal((await send("/echo", offer, channelId, 10n * PRICE, "k-body", post)).status, 200);
    assert.equal((await send("/echo", offer, channelId, 10n * PRICE, "k-method", post)).status, 200);
    assert.equal((await send("/metered/echo", meteredOffer, channelId, 10n * PRICE, "k-units", { headers: { "x-units": "1" } })).status, 200);
    const before = await snapshot(store);
    const servedBefore = served;
    const attempts: [string, Promise<Response>][] = [
      ["another URL (query)", send("/echo?page=2", offer, channelId, 10n * PRICE, "k-url")],
      ["another URL (path)", send("/ok", offer, channelId, 10n * PRICE, "k-url")],
      ["another body", send("/echo", offer, channelId, 10n * PRICE, "k-body", { method: "POST", body: "order=2" })],
      ["another method", send("/echo", offer, channelId, 10n * PRICE, "k-method", { ...post, method: "PUT" })],
      ["another unit count", send("/metered/echo", meteredOffer, channelId, 10n * PRICE, "k-units", { headers: { "x-units": "3" } })],
    ];
    for (const [label, attempt] of attempts) {
      const response = await attempt;
      assert.equal(response.status, 422, `${label}: ${response.status}`);
      await expectProblem(response, 422, KEY_REUSED);
    }
    assert.equal(served, servedBefore, "the handler ran under a reused key");
    assert.deepEqual(await snapshot(store), before);
  });

  it("test_idempotency_bodyOfAKeyedRequestIsNotReadBeforeItsCredentialVerified", async function () {
    // A hostile client: an endless body under a key, with a voucher its channel's payer did not sign.
    const { channelId, offer } = await openWith(10n * PRICE);
    const forged = credential(offer.challenge, { action: "voucher", channelId, cumulativeAmount: 10n * PRICE, signature: await new Payer(chain, chain.account(3)).sign(channelId, 10n * PRICE) });
    // The body is sent in part and never finished; the answer must come without it.
    const { status, type } = await new Promise<{ status: number; type: string }>((resolve, reject) => {
      const request = httpRequest(`${server.url}/echo`, { method: "POST", headers: { authorization: forged, "idempotency-key": "slow-body", "transfer-encoding": "chunked" } });
      request.on("error", reject);
      request.on("response", (response) => {
        let text = "";
        response.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
        response.on("end", () => {
          request.destroy();
          resolve({ status: response.statusCode!, type: (JSON.parse(text) as { type: string }).type });
        });
      });
      request.write("the first part of a body that never ends");
    });
    assert.deepEqual([status, type], [402, "https://paymentauth.org/problems/session/signer-mismatch"]);
  });

  it("test_idempotency_keyChargedBeforeFingerprintsRefusesEveryRequest", async function () {
    // A charge stored by a gate of schema version 1 (no fingerprint): what it paid for is unknown.
    const { channelId, offer } = await openWith(10n * PRICE);
    await store.withChannel(channelId, (tx) =>
      tx.putCharge({ channelId, key: "idempotency:legacy", payer: payer.address, amount: PRICE, units: 1n, status: "committed", fingerprint: null, createdAt: Date.now(), updatedAt: Date.now() }),
    );
    const before = await snapshot(store);
    await expectProblem(await send("/ok", offer, channelId, 10n * PRICE, "legacy"), 422, KEY_REUSED);
    assert.deepEqual(await snapshot(store), before);
  });

  it("test_idempotency_sameRequestUnderItsKeyIsServedAgainAndChargedOnce", async function () {
    const { channelId, offer } = await openWith(10n * PRICE);
    const init = { method: "POST", body: JSON.stringify({ prompt: "hello" }), headers: { "content-type": "application/json" } };
    const first = await send("/echo", offer, channelId, 10n * PRICE, "same-1", init);
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { n: served, body: init.body });
    // The retry a client makes when the response was lost (here with a higher voucher): served, not charged.
    const again = await send("/echo", offer, channelId, 10n * PRICE + 1n, "same-1", init);
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { body: string }).body, init.body);
    assert.equal(receiptOf(again).spent, String(PRICE));
    const channel = await spentOf(channelId);
    assert.deepEqual([channel.spent, channel.units, channel.reserved, channel.acceptedCumulative], [PRICE, 1n, 0n, 10n * PRICE + 1n]);
    const charges = (await snapshot(store)).charges.filter((charge) => charge.channelId === channelId);
    assert.equal(charges.length, 1);
    assert.match(charges[0]!.fingerprint ?? "", /^[0-9a-f]{64}$/);
    // Requests without a key are bound to nothing.
    assert.equal((await pay(`${server.url}/ok`, credential(offer.challenge, await payer.voucher(channelId, 10n * PRICE + 1n)))).status, 200);
    const unkeyed = (await snapshot(store)).charges.filter((charge) => charge.channelId === channelId && charge.key.startsWith("request:"));
    assert.deepEqual(unkeyed.map((charge) => charge.fingerprint), [null]);
  });

  it("test_idempotency_tenConcurrentCopiesOfOneRequestAreServedAndChargedOnce", async function () {
    const { channelId, offer } = await openWith(10n * PRICE);
    const voucher = credential(offer.challenge, await payer.voucher(channelId, 10n * PRICE));
    assert.equal(hung.length, 0);
    let answered = 0;
    const copies = Array.from({ length: 10 }, () =>
      pay(`${server.url}/hang`, voucher, { headers: { "idempotency-key": "twin" } }).then((response) => {
        answered += 1;
        return response;
      }),
    );
    // One copy holds the key in its handler (which answers only when released); the nine others are refused.
    // (Waiting for both: the copy that reserved may reach its handler after the others were answered.)
    while (answered < 9 || hung.length === 0) await sleep(5);
    assert.equal(hung.length, 1, "more than one copy reached the handler");
    assert.equal((await spentOf(channelId)).reserved, PRICE);
    hung.shift()!();
    const responses = await Promise.all(copies);
    const statuses = responses.map((response) => response.status).sort();
    assert.deepEqual(statuses, [200, ...Array(9).fill(409)]);
    for (const response of responses.filter((r) => r.status === 409)) await expectProblem(response, 409, KEY_IN_FLIGHT);
    const channel = await spentOf(channelId);
    assert.deepEqual([channel.spent, channel.reserved, channel.units], [PRICE, 0n, 1n]);
    // Once finished, the same request is a retry: served, not charged.
    const retried = pay(`${server.url}/hang`, voucher, { headers: { "idempotency-key": "twin" } });
    while (hung.length === 0) await sleep(5);
    hung.shift()!();
    assert.equal((await retried).status, 200);
    assert.equal((await spentOf(channelId)).spent, PRICE);
  });

  it("test_idempotency_expiredKeyIsChargedAgainAndItsOldChargeKept", async function () {
    clock = Date.now();
    const { channelId } = await openWith(10n * PRICE);
    const send = async (key: string, prefix = "/clock") => {
      const offer = await fetchOffer(`${server.url}${prefix}/ok`);
      return pay(`${server.url}${prefix}/ok`, credential(offer.challenge, await payer.voucher(channelId, 10n * PRICE)), { headers: { "idempotency-key": key } });
    };
    assert.equal((await send("daily")).status, 200);
    // Just inside the default window (a day): a retry.
    clock += DAY - 1;
    assert.equal((await send("daily")).status, 200);
    assert.equal((await spentOf(channelId)).spent, PRICE);
    // Past it, the key is new: charged again, and the first charge still counts in usage.
    clock += 1;
    assert.equal((await send("daily")).status, 200);
    assert.deepEqual([(await spentOf(channelId)).spent, (await spentOf(channelId)).units], [2n * PRICE, 2n]);
    const committed = await store.listCharges({ status: "committed", channelId });
    assert.equal(committed.length, 2);
    // Both stay committed (usage counts committed charges): the new one under the key, the old one set aside.
    assert.deepEqual(committed.map((charge) => [charge.amount, charge.createdAt]).sort(), [[PRICE, clock - DAY], [PRICE, clock]].sort());
    assert.equal(committed.find((charge) => charge.createdAt === clock)?.key, "idempotency:daily");

    // The window is the gate's idempotencyKeyTtl (seconds).
    assert.equal((await send("brief", "/minute")).status, 200);
    clock += 59_999;
    assert.equal((await send("brief", "/minute")).status, 200);
    assert.equal((await spentOf(channelId)).spent, 3n * PRICE);
    clock += 1;
    assert.equal((await send("brief", "/minute")).status, 200);
    assert.equal((await spentOf(channelId)).spent, 4n * PRICE);
    assert.throws(() => makeGate(chain, store, { idempotencyKeyTtl: 0 }), /idempotencyKeyTtl/);
  });
});
