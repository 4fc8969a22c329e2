import assert from "node:assert/strict";
import { createServer } from "node:http";
import express from "express";
// @ts-expect-error Express 4 under an npm alias: its types are @types/express 5's, used through the cast below.
import express4 from "express4";
import type { Hex } from "viem";
import { payment } from "../../../sdk/src/express/index.js";
import { paidExpressHandler } from "../../../sdk/src/server/index.js";
import { credential, fetchOffer, Payer, receiptOf } from "../e2e/helpers.js";
import { buyer, listen, PRICE, shop, type Shop } from "./fixture.js";

type App = ReturnType<typeof express>;

/** An Express app with the usual body parser in front and paid routes behind `payment(route)`. */
function paidApp(createApp: () => App, suite: Shop, served: string[]): App {
  const app = createApp();
  app.use((express as unknown as { json(): Parameters<App["use"]>[0] }).json());
  app.get("/photo", payment(suite.route), (_req, res) => {
    served.push("photo");
    res.json({ channelId: res.locals.payment!.channelId });
  });
  app.post("/echo", payment(suite.route), (req, res) => {
    served.push("echo");
    res.json({ received: req.body, channelId: res.locals.payment!.channelId });
  });
  app.get("/broken", payment(suite.route), () => {
    served.push("broken");
    throw new Error("the handler failed");
  });
  // Express's default error handler writes a 500; "test" keeps its stack trace out of the test output.
  app.set("env", "test");
  return app;
}

for (const [name, createApp] of [
  ["Express 5", () => express()],
  ["Express 4", () => (express4 as unknown as () => App)()],
] as const) {
  describe(`${name} middleware`, function () {
    this.timeout(120_000);
    const suite = shop();
    const served: string[] = [];
    let server: Awaited<ReturnType<typeof listen>>;
    before(async function () {
      server = await listen(createServer(paidApp(createApp, suite, served)));
    });
    after(async function () {
      await server?.stop();
    });

    it("test_express_paidGet_committedBeforeTheResponseArrives_unpaidIs402", async function () {
      const unpaid = await fetch(`${server.url}/photo`);
      assert.equal(unpaid.status, 402);
      assert.match(unpaid.headers.get("www-authenticate") ?? "", /^Payment /);
      assert.equal(served.length, 0);

      const pay = await buyer(suite);
      const response = await pay(`${server.url}/photo`);
      assert.equal(response.status, 200);
      const { channelId } = (await response.json()) as { channelId: Hex };
      assert.equal(receiptOf(response).channelId, channelId);
      // The response arrived, so its charge is already durable.
      const channel = (await suite.store.getChannel(channelId))!;
      assert.equal(channel.spent, PRICE);
      assert.equal(channel.reserved, 0n);
    });

    it("test_express_jsonPostAfterBodyParser_bodyReachesTheHandler", async function () {
      const pay = await buyer(suite);
      const response = await pay(`${server.url}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt: "a cat" }) });
      assert.equal(response.status, 200, await response.clone().text());
      const body = (await response.json()) as { received: unknown; channelId: Hex };
      assert.deepEqual(body.received, { prompt: "a cat" });
      assert.equal((await suite.store.getChannel(body.channelId))!.spent, PRICE);
    });

    it("test_express_handlerError_isNotBilled", async function () {
      const pay = await buyer(suite);
      const first = await pay(`${server.url}/photo`);
      const { channelId } = (await first.json()) as { channelId: Hex };
      const broken = await pay(`${server.url}/broken`);
      assert.equal(broken.status, 500);
      await broken.body?.cancel();
      assert.ok(served.includes("broken"));
      const channel = (await suite.store.getChannel(channelId))!;
      assert.equal(channel.spent, PRICE);
      assert.equal(channel.reserved, 0n);
    });

    it("test_express_concurrentRequests_eachBilledOnce", async function () {
      const pay = await buyer(suite);
      const first = await pay(`${server.url}/photo`);
      const { channelId } = (await first.json()) as { channelId: Hex };
      const responses = await Promise.all(Array.from({ length: 4 }, () => pay(`${server.url}/photo`)));
      for (const response of responses) assert.equal(response.status, 200);
      const channel = (await suite.store.getChannel(channelId))!;
      assert.equal(channel.spent, 5n * PRICE);
      assert.equal(channel.units, 5n);
      assert.equal(channel.reserved, 0n);
    });

    it("test_express_getOnlyRoute_closesByGet", async function () {
      const pay = await buyer(suite);
      assert.equal((await pay(`${server.url}/photo`)).status, 200);
      const before = served.length;
      const closed = await pay.close({ url: `${server.url}/photo` });
      assert.equal(closed.settled, PRICE);
      assert.equal((await suite.store.getChannel(closed.channelId))!.status, "closed");
      assert.equal(served.length, before, "the handler must not run for a close");
    });

    it("test_express_topUpAndHeadVoucher_answeredWithoutTheHandler", async function () {
      const url = `${server.url}/photo`;
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

describe("paidExpressHandler (fetch-style handler on Express)", function () {
  this.timeout(120_000);
  const suite = shop();

  it("test_express_getOnlyRoute_buyerClosesCooperatively", async function () {
    const app = express();
    app.get("/photo", paidExpressHandler(suite.route, async () => Response.json({ photo: 1 })));
    const server = await listen(createServer(app));
    try {
      const pay = await buyer(suite);
      assert.equal((await pay(`${server.url}/photo`)).status, 200);
      const closed = await pay.close({ url: `${server.url}/photo` });
      assert.equal(closed.settled, PRICE);
      assert.equal((await suite.store.getChannel(closed.channelId))!.status, "closed");
    } finally {
      await server.stop();
    }
  });

  it("test_express_paidExpressHandlerAfterExpressJson_servesJsonPost", async function () {
    const app = express();
    app.use(express.json());
    app.post("/echo", paidExpressHandler(suite.route, async (request) => Response.json({ received: await request.json() })));
    const server = await listen(createServer(app));
    try {
      const pay = await buyer(suite);
      const response = await pay(`${server.url}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt: "a dog" }) });
      assert.equal(response.status, 200, await response.clone().text());
      assert.deepEqual(((await response.json()) as { received: unknown }).received, { prompt: "a dog" });
    } finally {
      await server.stop();
    }
  });
});
