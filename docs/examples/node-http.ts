// node:http with the fetch-style core: npx tsx --tsconfig docs/examples/tsconfig.json docs/examples/node-http.ts
import http from "node:http";
import { clientErrorHandler, toNodeHandler } from "tollgate/server/node";
import { discovery, nextPhoto, photo, port, startGate } from "./gate.js";

await startGate();
const serve = toNodeHandler(async (request) => {
  const { pathname } = new URL(request.url);
  if (pathname === "/openapi.json") return Response.json(discovery());
  if (pathname !== "/photo") return new Response("Not Found", { status: 404 });
  return photo.handle(request, (request, payment) => Response.json(nextPhoto(payment)));
});
const server = http.createServer({ requireHostHeader: false }, serve).on("clientError", clientErrorHandler).on("checkExpectation", serve);
server.listen(port, "127.0.0.1", () => {
  const address = server.address();
  console.log(`listening on http://127.0.0.1:${typeof address === "object" && address ? address.port : port}`);
});
