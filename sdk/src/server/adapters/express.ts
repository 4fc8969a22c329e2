import type { PaidHandler, SessionRoute } from "../createPaymentGate.js";
import { type NodeHandler, toNodeHandler } from "./toNodeHandler.js";

/**
 * An Express route handler for a paid route: `app.get("/photo", paidExpressHandler(route, handler))`.
 * The paid handler is fetch-style (Request in, Response out), so the charge is committed before the
 * response is written, exactly as with every other adapter; errors go to Express's `next`, except a
 * request no fetch `Request` can carry (a malformed Host), which is answered `400` with a problem.
 */
export function paidExpressHandler(route: SessionRoute, handler: PaidHandler): NodeHandler {
  return toNodeHandler((request) => route.handle(request, handler));
}
