// Next.js App Router handlers are fetch-style: tested as the fetch handlers a route file exports, served
// over real HTTP by the node adapter (the Next runtime itself is not started here).
import { withPayment } from "../../../sdk/src/next/index.js";
import { startServer } from "../e2e/helpers.js";
import { channelOf } from "./fixture.js";
import { paidRoutesBehave, twoPartStream } from "./paidRoutes.js";

paidRoutesBehave("next", async (suite, served, streamMayEnd) => {
  // What four route files (`app/photo/route.ts`, …) would export.
  const routes: Record<string, Record<string, (request: Request, context: { params: Promise<object> }) => Promise<Response>>> = {
    "/photo": {
      GET: withPayment(suite.route, (_request, payment) => {
        served.push("photo");
        return Response.json({ channelId: channelOf(payment) });
      }),
    },
    "/echo": {
      POST: withPayment(suite.route, async (request, payment) => {
        served.push("echo");
        return Response.json({ received: await request.json(), channelId: channelOf(payment) });
      }),
    },
    "/broken": {
      GET: withPayment(suite.route, () => {
        served.push("broken");
        throw new Error("the handler failed");
      }),
    },
    "/stream": {
      GET: withPayment(suite.route, () => {
        served.push("stream");
        return new Response(twoPartStream(streamMayEnd));
      }),
    },
  };
  // Next answers HEAD with the GET handler, as the framework routers do.
  const server = await startServer(async (request) => {
    const handlers = routes[new URL(request.url).pathname] ?? {};
    const handler = handlers[request.method === "HEAD" ? "GET" : request.method];
    if (!handler) return new Response(null, { status: handlers.GET || handlers.POST ? 405 : 404 });
    try {
      return await handler(request, { params: Promise.resolve({}) });
    } catch {
      return new Response("Internal Server Error", { status: 500 });
    }
  });
  return { url: server.url, stop: () => server.close() };
});
