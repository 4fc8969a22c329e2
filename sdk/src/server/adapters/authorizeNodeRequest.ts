import type { IncomingMessage, ServerResponse } from "node:http";
import type { InvalidValueError } from "../../errors/InvalidValueError.js";
import type { Payment, SessionRoute } from "../createPaymentGate.js";
import { badRequestResponse } from "../problemResponse.js";
import { holdResponse } from "./holdResponse.js";
import { drainOnFinish, renderParsedBody, toRequest } from "./toNodeHandler.js";

export type AuthorizeNodeRequestParameters = {
  route: SessionRoute;
  incoming: IncomingMessage;
  outgoing: ServerResponse;
  /** What the framework's body parser made of the body, if it ran (the stream is then consumed). */
  parsedBody: unknown;
  /** Sends one of the gate's own answers (a 402, a problem, a management credential's answer). */
  answer(response: Response): Promise<void>;
  /** Where an error the gate does not answer goes (the framework's error handling). */
  onError(error: unknown): void;
};

/**
 * The paid part for Node frameworks whose handlers write on the response (Express, Fastify): the gate
 * authorizes the request; its own answers are sent through `answer`; otherwise the response is held
 * until the charge is finished (see holdResponse) and the payment is returned for the handler.
 */
export async function authorizeNodeRequest({ route, incoming, outgoing, parsedBody, answer, onError }: AuthorizeNodeRequestParameters): Promise<Payment | undefined> {
  drainOnFinish(incoming, outgoing);
  let request: Request;
  try {
    // The stream is left to the framework: a body parser that runs later still reads it. Only a parsed
    // body takes part in an Idempotency-Key's fingerprint.
    request = toRequest(incoming, { body: renderParsedBody(parsedBody) });
  } catch (error) {
    await answer(badRequestResponse((error as InvalidValueError).message));
    return undefined;
  }
  const authorized = await route.authorize(request);
  if (authorized.response) {
    await answer(authorized.response);
    return undefined;
  }
  holdResponse(outgoing, authorized, onError);
  return authorized.payment;
}
