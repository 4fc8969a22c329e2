// Issue 4, item 7: two server instances (two gates, two HTTP servers, two connection pools) sharing one
// PostgreSQL store and one secret. A challenge from one is accepted by the other; a client alternating
// and racing between them is accounted exactly; a stream on one resumes on a voucher sent to the other;
// a database outage is a 503 that loses nothing.
import assert from "node:assert/strict";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import type { Address, Hex } from "viem";
import type { SessionPayload } from "../../../sdk/src/session/payload.js";
import { meteredEventStream, type PaymentGate, type SessionStore } from "../../../sdk/src/server/index.js";
import { createPostgresStore } from "../../../sdk/src/server/postgres.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import {
  credential,
  expectProblem,
  fetchOffer,
  makeGate,
  type Offer,
  pay,
  Payer,
  POSTGRES_URL,
  postgresSchemas,
  receiptOf,
  SELLER,
  SESSION_PROBLEMS,
  shuffle,
  snapshot,
  startServer,
  type TestServer,
} from "./helpers.js";

const PRICE = 1_000n;
const TOKEN_PRICE = 10n;

describe("server e2e: two instances on one PostgreSQL store", function () {
  this.timeout(90_000);
  let chain: LocalChain;
  let seller: Address;
  let payer: Payer;
  const postgres = postgresSchemas();
  let storeA: SessionStore;
  let storeB: SessionStore;
  let gateA: PaymentGate;
  let gateB: PaymentGate;
  let serverA: TestServer;
  let serverB: TestServer;

  function instance(gate: PaymentGate) {
    const route = gate.session({ amount: PRICE, suggestedDeposit: 100n * PRICE });
    const stream = gate.session({ amount: TOKEN_PRICE, units: () => 0n, suggestedDeposit: 100n * PRICE });
    return startServer((request) => {
      const path = new URL(request.url).pathname;
      if (path === "/stream") {
        return stream.handle(request, async (incoming, payment) =>
          meteredEventStream({
            gate,
            payment: payment.method === "session" ? payment : assert.fail("a metered stream is paid from a session"),
            price: TOKEN_PRICE,
            signal: incoming.signal,
            pollInterval: 20,
            voucherTimeout: 10_000,
            source: (async function* () {
              for (let i = 0; i < 20; i++) yield `t${i}`;
            })(),
          }),
        );
      }
      return route.handle(request, async () => {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
        return Response.json({ served: true });
      });
    });
  }

  before(async function () {
    await postgres.assertReachable();
    chain = await startLocalChain();
    seller = chain.account(SELLER).address;
    payer = new Payer(chain, chain.account(2));
    await chain.mint(payer.address, 100_000_000n);
    const { store, schema } = await postgres.create(6);
    storeA = store;
    storeB = await postgres.open(schema, 6);
    gateA = makeGate(chain, storeA);
    gateB = makeGate(chain, storeB);
    serverA = await instance(gateA);
    serverB = await instance(gateB);
  });

  after(async function () {
    await serverA?.close();
    await serverB?.close();
    await storeA?.close();
    await storeB?.close();
    await postgres.dropAll();
    await chain?.stop();
  });

  it("test_twoInstances_alternatingAndRacingClientIsAccountedExactly", async function () {
    const a = `${serverA.url}/item`;
    const b = `${serverB.url}/item`;
    // A challenge issued by A, used at B (and later at A too).
    const offerA: Offer = await fetchOffer(a);
    const opened = await payer.openOnChain(seller, 100n * PRICE);
    const { channelId } = opened;
    const open = await pay(b, credential(offerA.challenge, await payer.openPayload(opened, PRICE), payer.source));
    assert.equal(open.status, 200, await open.clone().text());
    assert.equal(receiptOf(open).challengeId, offerA.challenge.id);
    const offerB = await fetchOffer(b);

    // Alternating, one at a time: every request served, receipts climb by one price each time.
    for (let i = 2; i <= 20; i++) {
      const [url, offer] = i % 2 === 0 ? [a, offerB] : [b, offerA];
      const response = await pay(url, credential(offer.challenge, await payer.voucher(channelId, BigInt(i) * PRICE)));
      assert.equal(response.status, 200, await response.clone().text());
      assert.deepEqual([receiptOf(response).acceptedCumulative, receiptOf(response).spent], [String(BigInt(i) * PRICE), String(BigInt(i) * PRICE)]);
      await response.body?.cancel();
    }

    // Racing: 40 requests at once, alternating servers, vouchers 21..60 in a shuffled order.
    const vouchers = new Map<number, SessionPayload>();
    for (let i = 21; i <= 60; i++) vouchers.set(i, await payer.voucher(channelId, BigInt(i) * PRICE));
    const order = shuffle([...vouchers.keys()], 0x7a11);
    const raced = await Promise.all(order.map((i, n) => pay(n % 2 === 0 ? a : b, credential((n % 3 === 0 ? offerA : offerB).challenge, vouchers.get(i)!))));
    let ok = 0;
    for (const response of raced) {
      if (response.status === 200) {
        const receipt = receiptOf(response);
        assert.ok(BigInt(receipt.spent) <= BigInt(receipt.acceptedCumulative));
        ok++;
      } else {
        await expectProblem(response, 402, `${SESSION_PROBLEMS}insufficient-balance`);
      }
      await response.body?.cancel().catch(() => undefined);
    }
    // Whatever the race left unspent is served by replays of the top voucher, split over both servers.
    let channel = (await storeA.getChannel(channelId))!;
    assert.equal(channel.acceptedCumulative, 60n * PRICE);
    const left = Number((channel.acceptedCumulative - channel.spent) / PRICE);
    const top = vouchers.get(60)!;
    const replays = await Promise.all(Array.from({ length: left + 6 }, (_, n) => pay(n % 2 === 0 ? a : b, credential(offerA.challenge, top))));
    const served = replays.filter((response) => response.status === 200).length;
    for (const response of replays) await response.body?.cancel().catch(() => undefined);
    assert.equal(served, left, "replays served exactly the balance left");

    channel = (await storeB.getChannel(channelId))!;
    assert.equal(channel.spent, BigInt(20 + ok + served) * PRICE);
    assert.equal(channel.spent, channel.acceptedCumulative);
    assert.equal(channel.reserved, 0n);
    const committed = (await snapshot(storeA)).charges.filter((c) => c.channelId === channelId && c.status === "committed");
    assert.equal(committed.length, 20 + ok + served);

    // Closed through B with the highest voucher A or B accepted: exact balances on-chain.
    const sellerBefore = await chain.balanceOf(seller);
    const close = await pay(b, credential(offerA.challenge, { action: "close", channelId, cumulativeAmount: 60n * PRICE, signature: (top as { signature: Hex }).signature }), { method: "POST" });
    assert.equal(close.status, 200, await close.clone().text());
    assert.equal(await chain.balanceOf(seller), sellerBefore + 60n * PRICE);
    await expectProblem(await pay(a, credential(offerB.challenge, top)), 410, `${SESSION_PROBLEMS}channel-finalized`);
  });

  it("test_twoInstances_streamOnOneResumesOnAVoucherSentToTheOther", async function () {
    const a = `${serverA.url}/stream`;
    const b = `${serverB.url}/stream`;
    const offer = await fetchOffer(a);
    const opened = await payer.openOnChain(seller, 100n * PRICE);
    const { channelId } = opened;
    const open = await pay(b, credential(offer.challenge, await payer.openPayload(opened, 5n * TOKEN_PRICE), payer.source), { method: "HEAD" });
    assert.equal(open.status, 204);

    const response = await pay(a, credential(offer.challenge, await payer.voucher(channelId, 5n * TOKEN_PRICE)));
    assert.equal(response.status, 200);
    const text = await readAll(response, async (block) => {
      if (!block.startsWith("event: payment-need-voucher")) return;
      // Sent to the other instance: A learns of it through the shared store.
      const head = await pay(b, credential(offer.challenge, await payer.voucher(channelId, 20n * TOKEN_PRICE)), { method: "HEAD" });
      assert.equal(head.status, 204);
    });
    const names = [...text.matchAll(/^event: (.*)$/gm)].map((match) => match[1]);
    assert.equal(names.filter((name) => name === "message").length, 20);
    // Asked ahead (three of five prepaid tokens sent), again at a pause if the five ran out before the
    // voucher for twenty came, and ahead once more below half of what that voucher left prepaid (answered
    // with the same voucher, never needed).
    const asks = names.filter((name) => name!.startsWith("payment-"));
    assert.ok(asks.length === 3 || asks.length === 4, asks.join());
    assert.deepEqual(asks, [...asks.slice(0, -1).map(() => "payment-need-voucher"), "payment-receipt"]);
    const channel = (await storeB.getChannel(channelId))!;
    assert.deepEqual([channel.spent, channel.acceptedCumulative, channel.units], [20n * TOKEN_PRICE, 20n * TOKEN_PRICE, 20n]);
  });

  it("test_twoInstances_databaseOutageIs503AndLosesNothing", async function () {
    // A third instance reaches PostgreSQL through a proxy that we cut and restore.
    const proxy = await startProxy(Number(new URL(POSTGRES_URL).port || 5432));
    const schema = (await postgres.create(2)).schema;
    const viaProxy = new URL(POSTGRES_URL);
    viaProxy.port = String(proxy.port);
    const store = await createPostgresStore({ connectionString: viaProxy.href, schema, maxConnections: 2 });
    const direct = await postgres.open(schema, 2);
    const gate = makeGate(chain, store);
    const server = await instance(gate);
    try {
      const url = `${server.url}/item`;
      const offer = await fetchOffer(url);
      const opened = await payer.openOnChain(seller, 100n * PRICE);
      const first = await pay(url, credential(offer.challenge, await payer.openPayload(opened, PRICE), payer.source));
      assert.equal(first.status, 200, await first.clone().text());

      await proxy.cut();
      const before = await snapshot(direct);
      const voucher = credential(offer.challenge, await payer.voucher(opened.channelId, 2n * PRICE));
      const failed = await pay(url, voucher);
      await expectProblem(failed, 503, "about:blank");
      assert.ok(Number(failed.headers.get("retry-after")) > 0);
      assert.deepEqual(await snapshot(direct), before);

      await proxy.restore();
      const retried = await pay(url, voucher);
      assert.equal(retried.status, 200, await retried.clone().text());
      const channel = (await direct.getChannel(opened.channelId))!;
      assert.deepEqual([channel.acceptedCumulative, channel.spent, channel.reserved], [2n * PRICE, 2n * PRICE, 0n]);
    } finally {
      await server.close();
      await store.close().catch(() => undefined);
      await direct.close();
      await proxy.stop();
    }
  });
});

/** Reads a whole SSE body, calling `onEvent` with each event block as it arrives. */
async function readAll(response: Response, onEvent: (block: string) => Promise<void>): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let pending = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const chunk = decoder.decode(value, { stream: true });
    text += chunk;
    pending += chunk;
    let end: number;
    while ((end = pending.indexOf("\n\n")) !== -1) {
      await onEvent(pending.slice(0, end));
      pending = pending.slice(end + 2);
    }
  }
  return text;
}

/** A TCP proxy to a local port that can be cut (every connection dropped, new ones refused) and restored. */
async function startProxy(targetPort: number) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = createConnection(targetPort, "127.0.0.1");
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on("error", drop).on("close", drop);
        upstream.on("error", drop).on("close", drop);
        client.pipe(upstream).pipe(client);
      });
      server.once("error", reject);
      // The same port again on restore, so the pool's connection string stays valid.
      server.listen(port, "127.0.0.1", () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  const cut = async () => {
    const closing = new Promise<void>((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()));
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await closing;
  };
  await listen();
  return { port, cut, restore: listen, stop: cut };
}
