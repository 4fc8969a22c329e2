import { InvalidValueError } from "../errors/InvalidValueError.js";
import { RpcError } from "../errors/RpcError.js";
import { StoreError } from "../errors/StoreError.js";
import { TransactionOutcomeUnknownError } from "../errors/TransactionOutcomeUnknownError.js";
import { TransactionReplacedError } from "../errors/TransactionReplacedError.js";
import { TransactionSubmissionError } from "../errors/TransactionSubmissionError.js";
import { PaymentProblemError, type ProblemDetails } from "../protocol/problems.js";

/**
 * The RFC 9457 response for a failed payment. A 402 carries a fresh challenge, as the core draft
 * requires. A value from the wire that does not parse is a 400. When the server's own side fails —
 * the chain cannot be reached, its transaction could not be sent or has no known outcome yet, the
 * session store failed — the answer is a 503 with Retry-After: the client's voucher or funding was not
 * consumed and the same credential can be sent again. Anything else is not answered here (undefined).
 */
export function problemResponse(error: unknown, freshChallenge: () => string): Response | undefined {
  let problem: ProblemDetails;
  const headers = new Headers(PROBLEM_HEADERS);
  if (error instanceof PaymentProblemError) {
    problem = error.toProblemDetails();
    if (problem.status === 402) headers.set("www-authenticate", freshChallenge());
    if (error.retryAfter !== undefined) headers.set("retry-after", String(error.retryAfter));
  } else if (isServerSideFailure(error)) {
    problem = statusProblem(503, "Service Unavailable", error.message);
    if (error instanceof TransactionOutcomeUnknownError) problem.txHash = error.hash;
    headers.set("retry-after", "5");
  } else if (error instanceof InvalidValueError) {
    problem = { type: "https://paymentauth.org/problems/malformed-credential", title: "Malformed Credential", status: 400, detail: error.message };
  } else {
    return undefined;
  }
  return new Response(JSON.stringify(problem), { status: problem.status, headers });
}

/** The headers of every problem response: never cached, since each answers one request. */
export const PROBLEM_HEADERS = { "content-type": "application/problem+json", "cache-control": "no-store" } as const;

/** A problem without a type of its own (RFC 9457 `about:blank`): the status and its title say what failed. */
export function statusProblem(status: number, title: string, detail: string): ProblemDetails {
  return { type: "about:blank", title, status, detail };
}

/** A `400 Bad Request` problem for a request that cannot be served at all (a malformed Host, target or method). */
export function badRequestResponse(detail: string): Response {
  return new Response(JSON.stringify(statusProblem(400, "Bad Request", detail)), { status: 400, headers: PROBLEM_HEADERS });
}

function isServerSideFailure(error: unknown): error is Error {
  return (
    error instanceof RpcError ||
    error instanceof TransactionOutcomeUnknownError ||
    error instanceof TransactionSubmissionError ||
    error instanceof TransactionReplacedError ||
    // A record the gate built wrongly, or a nested transaction, is a bug to surface, not a retry.
    (error instanceof StoreError && error.reason !== "invalid-record" && error.reason !== "misuse")
  );
}
