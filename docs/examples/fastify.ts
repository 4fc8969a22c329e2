// Fastify 5: npx tsx --tsconfig docs/examples/tsconfig.json docs/examples/fastify.ts
import Fastify from "fastify";
import { payment } from "tollgate/fastify";
import { discovery, nextPhoto, photo, port, startGate } from "./gate.js";

await startGate();
const app = Fastify();
app.get("/photo", { preHandler: payment(photo) }, async (request) => nextPhoto(request.payment!));
app.get("/openapi.json", async () => discovery());
const url = await app.listen({ port, host: "127.0.0.1" });
console.log(`listening on ${url}`);
