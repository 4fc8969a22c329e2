// tollgate/next: the payment gate for Next.js App Router route handlers (any fetch-style runtime).
import type { Payment, SessionRoute } from "../server/createPaymentGate.js";

export type { Payment, SessionRoute } from "../server/createPaymentGate.js";

/**
 * A paid App Router route handler: `export const GET = withPayment(route, (request, payment) => …)`.
 * The fetch-style core as is: the 402, management credentials answered without the handler, the charge
 * committed before the response is returned. Next's second argument (`{ params }`) is passed through.
 */
export function withPayment<Context = unknown>(
  route: SessionRoute,
  handler: (request: Request, payment: Payment, context: Context) => Response | Promise<Response>,
): (request: Request, context: Context) => Promise<Response> {
  return (request, context) => route.handle(request, (request, payment) => handler(request, payment, context));
}
