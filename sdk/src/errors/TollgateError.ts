/** Every error code the SDK raises; `TollgateError.code` narrows to one of these. */
export type TollgateErrorCode =
  | "INVALID_VALUE"
  | "INVALID_CONFIGURATION"
  | "CONTRACT_REVERTED"
  | "TRANSACTION_REPLACED"
  | "APPROVAL_FAILED"
  | "OUTCOME_UNKNOWN"
  | "SUBMISSION_FAILED"
  | "RPC_FAILED"
  | "DEPLOYMENT_NOT_FOUND"
  | "NATIVE_UNAVAILABLE"
  | "STORE_FAILED"
  | "PAYMENT_PROBLEM"
  | "CAP_EXCEEDED"
  | "UNTRUSTED_SERVER"
  | "SESSION_KEY_MISSING"
  | "USAGE_REQUEST_FAILED";

export type TollgateErrorOptions = { cause?: unknown };

/** Base class of every error the SDK throws: a short message, a stable `code`, and the underlying `cause`. */
export class TollgateError extends Error {
  override name = "TollgateError";
  readonly code: TollgateErrorCode;

  constructor(code: TollgateErrorCode, message: string, options: TollgateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}
