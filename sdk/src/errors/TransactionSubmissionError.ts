import { TollgateError, type TollgateErrorOptions } from "./TollgateError.js";

/** Simulating, signing or sending the transaction failed for a reason other than a revert; no hash was obtained. */
export class TransactionSubmissionError extends TollgateError {
  override name = "TransactionSubmissionError";

  constructor(message: string, options?: TollgateErrorOptions) {
    super("SUBMISSION_FAILED", message, options);
  }
}
