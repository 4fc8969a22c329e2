import assert from "node:assert/strict";
import { createServer } from "node:http";
import express from "express";
import { paidExpressHandler } from "../../../sdk/src/server/index.js";
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
});
