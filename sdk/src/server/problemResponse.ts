import { RpcError } from "../errors/RpcError.js";
import { TollgateError } from "../errors/TollgateError.js";
import { TransactionOutcomeUnknownError } from "../errors/TransactionOutcomeUnknownError.js";
import { PaymentProblemError, type ProblemDetails } from "../protocol/problems.js";

/**
 * The RFC 9457 response for a failed payment. A 402 carries a fresh challenge, as the core draft
 * requires; a chain that cannot be reached is a 503 with Retry-After (the client's voucher or funding
 * was not consumed); any other SDK error thrown while handling bad input is a 400, never a 500.
 */
export function problemResponse(error: unknown, freshChallenge: () => string): Response | undefined {
  let problem: ProblemDetails;
  const headers = new Headers({ "content-type": "application/problem+json", "cache-control": "no-store" });
  if (error instanceof PaymentProblemError) {
    problem = error.toProblemDetails();
    if (problem.status === 402) headers.set("www-authenticate", freshChallenge());
  } else if (error instanceof RpcError || error instanceof TransactionOutcomeUnknownError) {
    problem = { type: "about:blank", title: "Service Unavailable", status: 503, detail: error.message };
    if (error instanceof TransactionOutcomeUnknownError) problem.txHash = error.hash;
    headers.set("retry-after", "5");
  } else if (error instanceof TollgateError) {
    problem = { type: "https://paymentauth.org/problems/malformed-credential", title: "Malformed Credential", status: 400, detail: error.message };
  } else {
    return undefined;
  }
  return new Response(JSON.stringify(problem), { status: problem.status, headers });
}
