import { TollgateError } from "../errors/TollgateError.js";

const CORE = "https://paymentauth.org/problems/";
const SESSION = "https://paymentauth.org/problems/session/";

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
  // This toolkit's own: a contract wallet's unsettled credit is used up until settlement catches up.
  "settlement-pending": { type: `${SESSION}settlement-pending`, status: 429, title: "Settlement Pending" },
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
  cause?: unknown;
};

/** A payment failure that the server answers with the named problem type and its status. */
export class PaymentProblemError extends TollgateError {
  override name = "PaymentProblemError";
  readonly problem: ProblemName;
  readonly extensions: Record<string, unknown>;

  constructor(problem: ProblemName, { detail, extensions = {}, cause }: PaymentProblemErrorParameters = {}) {
    super("PAYMENT_PROBLEM", detail ?? problemTypes[problem].title, { cause });
    this.problem = problem;
    this.extensions = extensions;
  }

  get status(): number {
    return problemTypes[this.problem].status;
  }

  toProblemDetails(): ProblemDetails {
    const { type, title, status } = problemTypes[this.problem];
    return { ...this.extensions, type, title, status, detail: this.message };
  }
}
