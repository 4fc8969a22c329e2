import assert from "node:assert/strict";
import { createServer } from "node:http";
import express from "express";
// @ts-expect-error Express 4 under an npm alias: its types are @types/express 5's, used through the cast below.
import express4 from "express4";
import { http } from "viem";
import { StoreError } from "../../../sdk/src/errors/StoreError.js";
import { payment } from "../../../sdk/src/express/index.js";
import { createPaymentGate, type SessionStore } from "../../../sdk/src/server/index.js";
import { paidExpressHandler } from "../../../sdk/src/server/node.js";
import { receiptOf } from "../e2e/helpers.js";
import { buyer, listen, PRICE, shop } from "./fixture.js";
import { channelOf } from "./fixture.js";
import { paidRoutesBehave, type StartApp } from "./paidRoutes.js";

type App = ReturnType<typeof express>;

/** The shared paid routes on an Express app, `express.json()` in front. */
const startExpress =
  (createApp: () => App): StartApp =>
  async (suite, served, streamMayEnd) => {
    const app = createApp();
    app.use(express.json());
    app.get("/photo", payment(suite.route), (_req, res) => {
      served.push("photo");
      res.json({ channelId: channelOf(res.locals.payment) });
    });
    app.post("/echo", payment(suite.route), (req, res) => {
      served.push("echo");
      res.json({ received: req.body, channelId: channelOf(res.locals.payment) });
    });
    app.get("/broken", payment(suite.route), () => {
      served.push("broken");
      throw new Error("the handler failed");
    });
    app.get("/stream", payment(suite.route), async (_req, res) => {
      served.push("stream");
      res.write("first\n");
      await streamMayEnd();
      res.end("last\n");
    });
    // Express's default error handler answers 500; "test" keeps its stack trace out of the output.
    app.set("env", "test");
    return listen(createServer(app));
  };

paidRoutesBehave("express", startExpress(() => express()));
paidRoutesBehave("express4", startExpress(() => (express4 as () => App)()));

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

describe("Express middleware: failures around the held response", function () {
  this.timeout(120_000);
  const suite = shop();

  it("test_express_storeFailsAtCommit_answers503InsteadOfTheUnbilledResponse", async function () {
    let storeDown = false;
    // The gate's store, failing every transaction while `storeDown` (a database that went away).
    const failing = new Proxy(suite.store, {
      get(target, key) {
        if (key === "withChannel" && storeDown) return async () => Promise.reject(new StoreError("unavailable", "The database went away"));
        const value = Reflect.get(target, key) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as SessionStore;
    const gate = createPaymentGate({
      chain: suite.chain.chain,
      transport: http(suite.chain.rpcUrl),
      escrow: suite.chain.escrow,
      currency: suite.chain.token,
      account: suite.chain.account(1),
      store: failing,
      secret: "the framework tests' gate secret, 32+ bytes long",
    });
    const route = gate.session({ amount: PRICE, suggestedDeposit: 100n * PRICE });
    let delivered = "";
    const app = express();
    app.get("/photo", payment(route), (_req, res) => {
      storeDown = delivered === "first";
      res.json({ secret: (delivered = delivered ? "second" : "first") });
    });
    const server = await listen(createServer(app));
    try {
      const pay = await buyer(suite);
      const first = await pay(`${server.url}/photo`);
      assert.equal(first.status, 200);
      const channelId = receiptOf(first).channelId;
      const second = await pay(`${server.url}/photo`);
      const text = await second.text();
      assert.equal(second.status, 503, text);
      assert.equal(second.headers.get("content-type"), "application/problem+json");
      assert.equal(second.headers.get("payment-receipt"), null);
      assert.doesNotMatch(text, /second/, "the handler's response must not leave without its charge");
      storeDown = false;
      // Admitted in process, the request left nothing in the store: nothing reserved, nothing charged.
      assert.equal((await suite.store.getChannel(channelId))!.reserved, 0n);
      assert.equal((await gate.recover()).length, 0);
      assert.equal((await suite.store.getChannel(channelId))!.spent, PRICE);
      // The store back, the gate reads the channel again and serves the next request.
      const third = await pay(`${server.url}/photo`);
      assert.equal(third.status, 200, await third.clone().text());
      assert.equal((await suite.store.getChannel(channelId))!.spent, 2n * PRICE);
    } finally {
      await server.stop();
    }
  });

  it("test_express_clientGoneBeforeTheHandlerWrote_chargeReleased", async function () {
    let entered!: () => void;
    const handlerEntered = new Promise<void>((resolve) => (entered = resolve));
    const app = express();
    app.get("/photo", payment(suite.route), (_req, res) => {
      entered();
      // Answers only after the client has gone: nothing was delivered.
      res.on("close", () => res.json({ late: true }));
    });
    const server = await listen(createServer(app));
    try {
      const pay = await buyer(suite);
      const controller = new AbortController();
      const gone = pay(`${server.url}/photo`, { signal: controller.signal }).catch((error: unknown) => error);
      await handlerEntered;
      const payer = suite.buyers.at(-1)!;
      const channel = (await suite.store.listChannels()).find((candidate) => candidate.payer === payer);
      assert.equal(channel!.reserved, PRICE);
      controller.abort();
      assert.ok((await gone) instanceof Error);
      // The release runs when Node reports the closed response; wait for it (bounded), then check it.
      for (let i = 0; i < 200 && (await suite.store.getChannel(channel!.channelId))!.reserved !== 0n; i++) await new Promise((r) => setTimeout(r, 50));
      const after = (await suite.store.getChannel(channel!.channelId))!;
      assert.equal(after.reserved, 0n);
      assert.equal(after.spent, 0n);
    } finally {
      await server.stop();
    }
  });
});
