// tollgate/express: the payment gate as Express (4 and 5) middleware.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Payment, SessionRoute } from "../server/createPaymentGate.js";
import { authorizeNodeRequest } from "../server/adapters/authorizeNodeRequest.js";
import { writeResponse } from "../server/adapters/toNodeHandler.js";

export type { Payment, SessionRoute } from "../server/createPaymentGate.js";

type ExpressRequest = IncomingMessage & { body?: unknown };
type ExpressResponse = ServerResponse & { locals: Record<string, unknown> };

/**
 * Express middleware for a paid route: `app.get("/photo", payment(route), (req, res) => …)`. Unpaid
 * requests get the 402; management credentials (close, top-up, a voucher by HEAD) are answered here
 * without running the handler. A paid request reaches the handler with the payment on
 * `res.locals.payment`; what the handler writes is held until the charge is committed (or released,
 * for a status the gate does not bill, such as Express's 500 for an error passed to `next`), then sent
 * with the receipt. Put body parsers (`express.json()`) before or after it: `req.body` is untouched.
 */
export function payment(route: SessionRoute): (req: ExpressRequest, res: ExpressResponse, next: (error?: unknown) => void) => void {
  return (req, res, next) => {
    authorizeNodeRequest({
      route,
      incoming: req,
      outgoing: res,
      parsedBody: req.body,
      answer: (response) => writeResponse(req, res, response),
      onError: next,
    }).then((paid) => {
      if (!paid) return;
      res.locals.payment = paid;
      next();
    }, next);
  };
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** Set by tollgate's `payment(route)` on the requests it let through. */
      payment?: Payment;
    }
  }
}
