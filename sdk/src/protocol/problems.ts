import { TollgateError } from "../errors/TollgateError.js";

const CORE = "https://paymentauth.org/problems/";
const SESSION = "https://paymentauth.org/problems/session/";
// Tollgate's own types, for what the Payment drafts do not cover.
const TOLLGATE = "https://tollgate.dev/problems/";

/**
 * The problem types of the Payment scheme and of the `evm` session method, with the HTTP status and
 * title each is sent with. These are the interoperable error surface: clients branch on `type`.
 */
export const problemTypes = {
  "payment-required": { type: `${CORE}payment-required`, status: 402, title: "Payment Required" },
  "payment-expired": { type: `${CORE}payment-expired`, status: 402, title: "Payment Expired" },
  "method-unsupported": { type: `${CORE}method-unsupported`, status: 400, title: "Method Unsupported" },
  // The session draft answers a malformed payload with 400, which this toolkit applies to any credential
  // it cannot parse, so that a client bug is not mistaken for a request to pay again.
  "malformed-credential": { type: `${CORE}malformed-credential`, status: 400, title: "Malformed Credential" },
  "invalid-challenge": { type: `${CORE}invalid-challenge`, status: 402, title: "Invalid Challenge" },
  "verification-failed": { type: `${CORE}verification-failed`, status: 402, title: "Verification Failed" },
  "invalid-signature": { type: `${SESSION}invalid-signature`, status: 402, title: "Invalid Signature" },
  "signer-mismatch": { type: `${SESSION}signer-mismatch`, status: 402, title: "Signer Mismatch" },
  "amount-exceeds-deposit": { type: `${SESSION}amount-exceeds-deposit`, status: 402, title: "Amount Exceeds Deposit" },
  "delta-too-small": { type: `${SESSION}delta-too-small`, status: 402, title: "Voucher Delta Too Small" },
  "channel-not-found": { type: `${SESSION}channel-not-found`, status: 410, title: "Channel Not Found" },
  "channel-finalized": { type: `${SESSION}channel-finalized`, status: 410, title: "Channel Finalized" },
  "challenge-not-found": { type: `${SESSION}challenge-not-found`, status: 402, title: "Challenge Not Found" },
  "insufficient-balance": { type: `${SESSION}insufficient-balance`, status: 402, title: "Insufficient Balance" },
  "transaction-reverted": { type: `${SESSION}transaction-reverted`, status: 409, title: "Transaction Reverted" },
  // Statuses as draft-ietf-httpapi-idempotency-key-header gives them: a key reused for another request
  // is 422, a duplicate of a request still being processed is 409.
  "idempotency-key-reused": { type: `${TOLLGATE}idempotency-key-reused`, status: 422, title: "Idempotency Key Reused" },
  "idempotency-key-in-flight": { type: `${TOLLGATE}idempotency-key-in-flight`, status: 409, title: "Idempotency Key In Flight" },
  // No payment draft names a rate limit, so a seller's refusal to relay more transactions for now is the
  // plain HTTP status (RFC 9457 `about:blank`), with Retry-After.
  "relay-rate-limited": { type: "about:blank", status: 429, title: "Too Many Requests" },
  // This toolkit's own: a contract wallet's unsettled credit is used up until settlement catches up.
  "settlement-pending": { type: `${TOLLGATE}settlement-pending`, status: 429, title: "Settlement Pending" },
} as const;

export type ProblemName = keyof typeof problemTypes;

/** An RFC 9457 problem details object; extension members (e.g. `channelId`) ride along. */
export type ProblemDetails = {
  type: string;
  title: string;
  status: number;
  detail?: string;
  [extension: string]: unknown;
};

export type PaymentProblemErrorParameters = {
  detail?: string;
  /** Extension members of the problem details, e.g. `{ channelId }`. */
  extensions?: Record<string, unknown>;
  /** Seconds after which the same credential may succeed (sent as `Retry-After`). */
  retryAfter?: number;
  cause?: unknown;
};

/** A payment failure that the server answers with the named problem type and its status. */
export class PaymentProblemError extends TollgateError {
  override name = "PaymentProblemError";
  readonly problem: ProblemName;
  readonly extensions: Record<string, unknown>;
  readonly retryAfter: number | undefined;

  constructor(problem: ProblemName, { detail, extensions = {}, retryAfter, cause }: PaymentProblemErrorParameters = {}) {
    super("PAYMENT_PROBLEM", detail ?? problemTypes[problem].title, { cause });
    this.problem = problem;
    this.extensions = extensions;
    this.retryAfter = retryAfter;
  }

  get status(): number {
    return problemTypes[this.problem].status;
  }

  toProblemDetails(): ProblemDetails {
    const { type, title, status } = problemTypes[this.problem];
    return { ...this.extensions, type, title, status, detail: this.message };
  }
}
