// The behaviour every framework middleware must have, registered once per framework: the framework's
// app serves GET /photo ({ channelId }), POST /echo ({ received: parsed JSON body, channelId }) behind
// its usual body parser, GET /broken (the handler throws) and GET /stream (writes "first\n", then the
// rest once `streamMayEnd()` resolves), each behind the tollgate middleware, and pushes the route's name
// to `served` whenever a handler runs.
import assert from "node:assert/strict";
import type { Hex } from "viem";
import { credential, fetchOffer, Payer, receiptOf } from "../e2e/helpers.js";
import { buyer, PRICE, shop, type Shop } from "./fixture.js";

export type StartApp = (suite: Shop, served: string[], streamMayEnd: () => Promise<void>) => Promise<{ url: string; stop(): Promise<void> }>;

export function paidRoutesBehave(area: string, startApp: StartApp): void {
  describe(`${area}: paid routes`, function () {
    this.timeout(120_000);
    const suite = shop();
    const served: string[] = [];
    let app: Awaited<ReturnType<StartApp>>;
    let endStream!: () => void;
    const streamEnds = new Promise<void>((resolve) => (endStream = resolve));
    before(async function () {
      app = await startApp(suite, served, () => streamEnds);
    });
    after(async function () {
      await app?.stop();
    });

    it(`test_${area}_paidGet_committedBeforeTheResponseArrives_unpaidIs402`, async function () {
      const unpaid = await fetch(`${app.url}/photo`);
      assert.equal(unpaid.status, 402);
      assert.match(unpaid.headers.get("www-authenticate") ?? "", /^Payment /);
      await unpaid.body?.cancel();
      assert.equal(served.length, 0);

      const pay = await buyer(suite);
      const response = await pay(`${app.url}/photo`);
      assert.equal(response.status, 200, await response.clone().text());
      const { channelId } = (await response.json()) as { channelId: Hex };
      assert.equal(receiptOf(response).channelId, channelId);
      // The response arrived, so its charge is already durable.
      await assertBilled(suite, channelId, PRICE);
    });

    it(`test_${area}_streamingHandler_chargeCommittedBeforeTheFirstChunk`, async function () {
      const pay = await buyer(suite);
      const response = await pay(`${app.url}/stream`);
      assert.equal(response.status, 200);
      const { channelId } = receiptOf(response);
      const reader = response.body!.getReader();
      const first = await reader.read();
      assert.match(new TextDecoder().decode(first.value), /^first/);
      // The handler has not finished (it waits for this test), yet the first byte arrived: charged already.
      await assertBilled(suite, channelId, PRICE);
      endStream();
      while (!(await reader.read()).done);
    });

    it(`test_${area}_jsonPostAfterBodyParser_bodyReachesTheHandler`, async function () {
      const pay = await buyer(suite);
      const response = await pay(`${app.url}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt: "a cat" }) });
      assert.equal(response.status, 200, await response.clone().text());
      const body = (await response.json()) as { received: unknown; channelId: Hex };
      assert.deepEqual(body.received, { prompt: "a cat" });
      assert.equal((await suite.store.getChannel(body.channelId))!.spent, PRICE);
    });

    it(`test_${area}_idempotencyKeyOnJsonPost_billedOnce_otherBodyRefused`, async function () {
      const pay = await buyer(suite);
      const post = (prompt: string) =>
        pay(`${app.url}/echo`, { method: "POST", headers: { "content-type": "application/json", "idempotency-key": `echo-${area}` }, body: JSON.stringify({ prompt }) });
      const first = await post("a cat");
      assert.equal(first.status, 200, await first.clone().text());
      const { channelId } = (await first.json()) as { channelId: Hex };
      const again = await post("a cat");
      assert.equal(again.status, 200, await again.clone().text());
      await again.body?.cancel();
      await assertBilled(suite, channelId, PRICE);
      // The key is bound to the body it paid for, which the body parser had already read.
      const other = await post("a dog");
      assert.equal(other.status, 422, await other.clone().text());
      await other.body?.cancel();
      await assertBilled(suite, channelId, PRICE);
    });

    it(`test_${area}_handlerError_isNotBilled`, async function () {
      const pay = await buyer(suite);
      const first = await pay(`${app.url}/photo`);
      const { channelId } = (await first.json()) as { channelId: Hex };
      const broken = await pay(`${app.url}/broken`);
      assert.equal(broken.status, 500);
      await broken.body?.cancel();
      assert.ok(served.includes("broken"));
      await assertBilled(suite, channelId, PRICE);
    });

    it(`test_${area}_concurrentRequests_eachBilledOnce`, async function () {
      const pay = await buyer(suite);
      const first = await pay(`${app.url}/photo`);
      const { channelId } = (await first.json()) as { channelId: Hex };
      const responses = await Promise.all(Array.from({ length: 4 }, () => pay(`${app.url}/photo`)));
      for (const response of responses) assert.equal(response.status, 200);
      const channel = (await suite.store.getChannel(channelId))!;
      assert.equal(channel.spent, 5n * PRICE);
      assert.equal(channel.units, 5n);
      assert.equal(channel.reserved, 0n);
    });

    it(`test_${area}_getOnlyRoute_closesByGet`, async function () {
      const pay = await buyer(suite);
      assert.equal((await pay(`${app.url}/photo`)).status, 200);
      const before = served.length;
      const closed = await pay.close({ url: `${app.url}/photo` });
      assert.equal(closed.settled, PRICE);
      assert.equal((await suite.store.getChannel(closed.channelId))!.status, "closed");
      assert.equal(served.length, before, "the handler must not run for a close");
    });

    it(`test_${area}_topUpAndHeadVoucher_answeredWithoutTheHandler`, async function () {
      const url = `${app.url}/photo`;
      const payer = new Payer(suite.chain, suite.chain.account(19));
      await suite.chain.mint(payer.address, 1_000_000n);
      const { challenge } = await fetchOffer(url);
      const onChain = await payer.openOnChain(suite.gate.recipient, 10n * PRICE);
      const { channelId } = onChain;
      const opened = await fetch(url, { headers: { authorization: credential(challenge, await payer.openPayload(onChain, PRICE), payer.source) } });
      assert.equal(opened.status, 200, await opened.clone().text());
      const before = served.length;
      const topUpHash = await payer.topUpOnChain(channelId, 5n * PRICE);
      const topUp = await fetch(url, { headers: { authorization: credential(challenge, { action: "topUp", type: "hash", channelId, hash: topUpHash, additionalDeposit: 5n * PRICE }, payer.source) } });
      assert.equal(topUp.status, 204, await topUp.clone().text());
      const head = await fetch(url, { method: "HEAD", headers: { authorization: credential(challenge, await payer.voucher(channelId, 3n * PRICE)) } });
      assert.equal(head.status, 204);
      assert.equal(receiptOf(head).acceptedCumulative, (3n * PRICE).toString());
      assert.equal(served.length, before, "the handler must not run for management credentials");
      const channel = (await suite.store.getChannel(channelId))!;
      assert.equal(channel.deposit, 15n * PRICE);
      assert.equal(channel.spent, PRICE);
    });
  });
}

/** The channel's charges are all finished (nothing held) and add up to `spent`. */
async function assertBilled(suite: Shop, channelId: Hex, spent: bigint): Promise<void> {
  const channel = (await suite.store.getChannel(channelId))!;
  assert.equal(channel.spent, spent);
  assert.equal(channel.reserved, 0n);
}

/** The body of GET /stream for fetch-style handlers: "first\n", then "last\n" once `mayEnd()` resolves. */
export function twoPartStream(mayEnd: () => Promise<void>): ReadableStream<Uint8Array> {
  return new ReadableStream({
    async start(controller) {
      controller.enqueue(new TextEncoder().encode("first\n"));
      await mayEnd();
      controller.enqueue(new TextEncoder().encode("last\n"));
      controller.close();
    },
  });
}
