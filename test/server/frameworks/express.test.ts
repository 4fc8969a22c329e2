import assert from "node:assert/strict";
import { createServer } from "node:http";
import express from "express";
import { paidExpressHandler } from "../../../sdk/src/server/index.js";
import { credential, fetchOffer, Payer, receiptOf } from "../e2e/helpers.js";
import { buyer, listen, PRICE, shop } from "./fixture.js";

describe("Express", function () {
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

  it("test_express_topUpByGet_answeredWithoutRunningTheHandler", async function () {
    let served = 0;
    const app = express();
    app.get("/photo", paidExpressHandler(suite.route, async () => Response.json({ photo: ++served })));
    const server = await listen(createServer(app));
    try {
      const url = `${server.url}/photo`;
      const payer = new Payer(suite.chain, suite.chain.account(19));
      await suite.chain.mint(payer.address, 1_000_000n);
      const { challenge } = await fetchOffer(url);
      const onChain = await payer.openOnChain(suite.gate.recipient, 10n * PRICE);
      const { channelId } = onChain;
      const opened = await fetch(url, { headers: { authorization: credential(challenge, await payer.openPayload(onChain, PRICE), payer.source) } });
      assert.equal(opened.status, 200, await opened.clone().text());
      assert.equal(served, 1);
      const topUpHash = await payer.topUpOnChain(channelId, 5n * PRICE);
      const topUp = await fetch(url, { headers: { authorization: credential(challenge, { action: "topUp", type: "hash", channelId, hash: topUpHash, additionalDeposit: 5n * PRICE }, payer.source) } });
      assert.equal(topUp.status, 204, await topUp.clone().text());
      assert.equal(receiptOf(topUp).spent, PRICE.toString());
      assert.equal(served, 1, "the handler must not run for a top-up");
      const channel = (await suite.store.getChannel(channelId))!;
      assert.equal(channel.deposit, 15n * PRICE);
      assert.equal(channel.spent, PRICE);
    } finally {
      await server.stop();
    }
  });
});
