import { PassThrough } from "node:stream";
import Fastify from "fastify";
import { payment } from "../../../sdk/src/fastify/index.js";
import { channelOf } from "./fixture.js";
import { paidRoutesBehave } from "./paidRoutes.js";

paidRoutesBehave("fastify", async (suite, served, streamMayEnd) => {
  const app = Fastify();
  app.get("/photo", { preHandler: payment(suite.route) }, async (request) => {
    served.push("photo");
    return { channelId: channelOf(request.payment) };
  });
  app.post("/echo", { preHandler: payment(suite.route) }, async (request) => {
    served.push("echo");
    return { received: request.body, channelId: channelOf(request.payment) };
  });
  app.get("/broken", { preHandler: payment(suite.route) }, async () => {
    served.push("broken");
    throw new Error("the handler failed");
  });
  app.get("/stream", { preHandler: payment(suite.route) }, async (_request, reply) => {
    served.push("stream");
    const body = new PassThrough();
    body.write("first\n");
    void streamMayEnd().then(() => body.end("last\n"));
    return reply.type("text/plain").send(body);
  });
  const address = await app.listen({ host: "127.0.0.1", port: 0 });
  return { url: address, stop: () => app.close() };
});
