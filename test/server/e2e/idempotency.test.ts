// Issue 4, item 10: a request retried with the same Idempotency-Key is charged once; in reserve mode (the
// default) a handler answering 5xx or throwing is not billed, while charge mode bills before the handler.
import assert from "node:assert/strict";
import type { Address, Hex } from "viem";
import type { PaymentGate, SessionRoute, SessionStore } from "../../../sdk/src/server/index.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import { credential, fetchOffer, makeGate, type Offer, pay, Payer, receiptOf, SELLER, snapshot, sqliteStore, startServer, type TestServer } from "./helpers.js";

const PRICE = 1_000n;

describe("server e2e: idempotency keys and unbilled failures", function () {
  this.timeout(60_000);
  let chain: LocalChain;
  let seller: Address;
  let payer: Payer;
  let store: SessionStore;
  let server: TestServer;
  let served = 0;
  let reserveGate: PaymentGate;
  /** Resolves the handlers of /hang requests. */
  const hung: (() => void)[] = [];
  /** What the handler does, by path. */
  const behaviours: Record<string, () => Response | Promise<Response>> = {
    "/ok": () => Response.json({ n: ++served }),
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
    server = await startServer((request) => {
      const { pathname } = new URL(request.url);
      const [mode, path] = pathname.startsWith("/charge/") ? [charge, pathname.slice(7)] : [reserve, pathname];
      const behaviour = behaviours[path];
      if (!behaviour) return new Response("not found", { status: 404 });
      return mode.handle(request, async () => behaviour());
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
    // Racing retries of another key: charged once too.
    const racing = await Promise.all(Array.from({ length: 8 }, () => pay(`${server.url}/ok`, voucher, { headers: { "idempotency-key": "order-43" } })));
    assert.ok(racing.every((response) => response.status === 200));
    let channel = await spentOf(channelId);
    assert.deepEqual([channel.spent, channel.units, channel.reserved], [2n * PRICE, 2n, 0n]);
    const charges = (await snapshot(store)).charges.filter((charge) => charge.channelId === channelId);
    assert.deepEqual(charges.map((charge) => [charge.key, charge.status]).sort(), [["idempotency:order-42", "committed"], ["idempotency:order-43", "committed"]]);

    // Without a key, or with one that is not a valid key, every request is its own charge.
    for (const headers of [{}, { "idempotency-key": "has spaces in it" }, { "idempotency-key": "x".repeat(256) }] as Record<string, string>[]) {
      assert.equal((await pay(`${server.url}/ok`, voucher, { headers })).status, 200);
      assert.equal((await pay(`${server.url}/ok`, voucher, { headers })).status, 200);
    }
    channel = await spentOf(channelId);
    assert.equal(channel.spent, 8n * PRICE);
  });

  it("test_idempotency_reserveModeDoesNotBillA5xxOrAThrowingHandler", async function () {
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
    // A 4xx from the handler was delivered: it is billed.
    const missing = await pay(`${server.url}/missing`, voucher);
    assert.equal(missing.status, 404);
    channel = await spentOf(channelId);
    assert.deepEqual([channel.spent, channel.reserved, channel.units], [2n * PRICE, 0n, 2n]);
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
    const retried = await pay(`${server.url}/charge/ok`, voucher, { headers: { "idempotency-key": "c-1" } });
    assert.equal(retried.status, 200);
    const channel = await spentOf(channelId);
    assert.deepEqual([channel.spent, channel.reserved], [PRICE, 0n]);
  });
});
