// Hono on Node (@hono/node-server): npx tsx --tsconfig docs/examples/tsconfig.json docs/examples/hono.ts
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { payment, type PaymentVariables } from "tollgate/hono";
import { discovery, nextPhoto, photo, port, startGate } from "./gate.js";

await startGate();
const app = new Hono<{ Variables: PaymentVariables }>();
app.get("/photo", payment(photo), (c) => c.json(nextPhoto(c.get("payment"))));
app.get("/openapi.json", (c) => c.json(discovery()));
serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, (info) => console.log(`listening on http://127.0.0.1:${info.port}`));
