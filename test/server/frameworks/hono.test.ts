import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { payment, type PaymentVariables } from "../../../sdk/src/hono/index.js";
import { channelOf } from "./fixture.js";
import { paidRoutesBehave, twoPartStream } from "./paidRoutes.js";

paidRoutesBehave("hono", async (suite, served, streamMayEnd) => {
  const app = new Hono<{ Variables: PaymentVariables }>();
  app.get("/photo", payment(suite.route), (c) => {
    served.push("photo");
    return c.json({ channelId: channelOf(c.get("payment")) });
  });
  app.post("/echo", payment(suite.route), async (c) => {
    served.push("echo");
    return c.json({ received: await c.req.json(), channelId: channelOf(c.get("payment")) });
  });
  app.get("/broken", payment(suite.route), () => {
    served.push("broken");
    throw new Error("the handler failed");
  });
  app.get("/stream", payment(suite.route), (c) => {
    served.push("stream");
    return c.body(twoPartStream(streamMayEnd));
  });
  app.onError((_error, c) => c.text("Internal Server Error", 500));
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    // By default @hono/node-server replaces the global Request and Response for the whole process; the
    // rest of the suite runs in this process, so they stay Node's own here.
    const started = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0, overrideGlobalObjects: false }, () => resolve(started));
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
});
