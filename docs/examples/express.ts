// Express 5 (or 4): npx tsx --tsconfig docs/examples/tsconfig.json docs/examples/express.ts
import express from "express";
import { payment } from "tollgate/express";
import { discovery, nextPhoto, photo, port, startGate } from "./gate.js";

await startGate();
const app = express();
app.use(express.json());
// GET carries the buyer's close and top-ups too, so a GET-only route is enough.
app.get("/photo", payment(photo), (req, res) => {
  res.json(nextPhoto(res.locals.payment!));
});
app.get("/openapi.json", (req, res) => {
  res.json(discovery());
});
const server = app.listen(port, "127.0.0.1", () => {
  const address = server.address();
  console.log(`listening on http://127.0.0.1:${typeof address === "object" && address ? address.port : port}`);
});
