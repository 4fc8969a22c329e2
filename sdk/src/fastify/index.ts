// tollgate/fastify: the payment gate as a Fastify preHandler.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Payment, SessionRoute } from "../server/createPaymentGate.js";
import { authorizeNodeRequest } from "../server/adapters/authorizeNodeRequest.js";
import { writeResponse } from "../server/adapters/toNodeHandler.js";

export type { Payment, SessionRoute } from "../server/createPaymentGate.js";

/**
 * A Fastify preHandler for a paid route: `app.get("/photo", { preHandler: payment(route) }, (request, reply) => …)`.
 * Unpaid requests get the 402; management credentials (close, top-up, a voucher by HEAD) are answered
 * here without running the handler. A paid request reaches the handler with `request.payment`; what
 * Fastify writes is held until the charge is committed (or released, for a status the gate does not
 * bill, such as the 500 of a handler that threw), then sent with the receipt. The body Fastify parsed
 * reaches the handler as usual.
 */
export function payment(route: SessionRoute): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    const paid = await authorizeNodeRequest({
      route,
      incoming: request.raw,
      outgoing: reply.raw,
      parsedBody: request.body,
      answer: (response) => {
        // The gate's own answer bypasses Fastify's reply (and its serializers).
        reply.hijack();
        return writeResponse(request.raw, reply.raw, response);
      },
      // Fastify has already handed the (held) response over: answer it with a bare 500.
      onError: (error) => {
        request.log.error({ err: error }, "tollgate: finishing the charge failed");
        if (!reply.raw.headersSent) reply.raw.writeHead(500).end();
      },
    });
    if (paid) request.payment = paid;
  };
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set by tollgate's `payment(route)` preHandler on the requests it let through. */
    payment?: Payment;
  }
}
