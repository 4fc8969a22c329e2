// tollgate/hono: the payment gate as Hono middleware.
import type { MiddlewareHandler } from "hono";
import type { Payment, SessionRoute } from "../server/createPaymentGate.js";

export type { Payment, SessionRoute } from "../server/createPaymentGate.js";

/** The variables `payment(route)` sets on the context: `c.get("payment")`. */
export type PaymentVariables = { payment: Payment };

/**
 * Hono middleware for a paid route: `app.get("/photo", payment(route), (c) => …)`. Unpaid requests get
 * the 402; management credentials (close, top-up, a voucher by HEAD) are answered here without running
 * the handler. A paid request reaches the handler with `c.get("payment")`; once it answered, the charge
 * is committed (or released: an error the handler threw, a status the gate does not bill) before the
 * response, which then carries the receipt, is returned to Hono. Put `payment(route)` before validators
 * that read the body, so that it reads its own copy.
 */
export function payment(route: SessionRoute): MiddlewareHandler<{ Variables: PaymentVariables }> {
  return async (c, next) => {
    const authorized = await route.authorize(c.req.raw);
    if (authorized.response) return authorized.response;
    c.set("payment", authorized.payment);
    await next();
    // Hono catches a handler's error and answers with `onError`'s response: nothing paid was delivered.
    if (c.error) {
      await authorized.release();
      return;
    }
    try {
      for (const [name, value] of Object.entries(await authorized.finish(c.res.status))) c.header(name, value);
    } catch (error) {
      const problem = authorized.problem(error);
      if (!problem) throw error;
      await c.res.body?.cancel().catch(() => undefined);
      c.res = undefined;
      c.res = problem;
    }
    return undefined;
  };
}
