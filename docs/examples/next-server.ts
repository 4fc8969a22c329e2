// Serves next.ts (an App Router route file) on a loopback port the way Next calls it, to try it without
// Next: the exported method handler with the request and `{ params }`. npx tsx --tsconfig docs/examples/tsconfig.json docs/examples/next-server.ts
import http from "node:http";
import { toNodeHandler } from "tollgate/server/node";
import { port, startGate } from "./gate.js";
import * as route from "./next.js";

await startGate();
const serve = toNodeHandler(async (request) => {
  if (new URL(request.url).pathname !== "/photo") return new Response("Not Found", { status: 404 });
  // Next answers HEAD with the GET handler.
  if (request.method !== "GET" && request.method !== "HEAD") return new Response(null, { status: 405 });
  return route.GET(request, { params: Promise.resolve({}) });
});
const server = http.createServer(serve);
server.listen(port, "127.0.0.1", () => {
  const address = server.address();
  console.log(`listening on http://127.0.0.1:${typeof address === "object" && address ? address.port : port}`);
});
