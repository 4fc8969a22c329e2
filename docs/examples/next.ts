// Next.js App Router: this file is app/photo/route.ts (the gate in a module of its own, e.g. lib/gate.ts,
// and `await startGate()` in instrumentation.ts's register()). A route file exports its methods' handlers;
// GET also carries the buyer's close and top-ups, so a GET-only route is enough.
import { withPayment } from "tollgate/next";
import { nextPhoto, photo } from "./gate.js";

export const GET = withPayment(photo, async (request, payment) => Response.json(nextPhoto(payment)));
