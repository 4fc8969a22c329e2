import type { Hex } from "viem";
import { TollgateError, type TollgateErrorOptions } from "./TollgateError.js";

/**
 * The transaction was sent but no receipt arrived within the bound (or the node could not be asked).
 * It may still be mined: this is not a failure, and the caller should look again later by `hash`.
 */
export class TransactionOutcomeUnknownError extends TollgateError {
  override name = "TransactionOutcomeUnknownError";
  readonly hash: Hex;

  constructor(hash: Hex, options?: TollgateErrorOptions) {
    super("OUTCOME_UNKNOWN", `No receipt yet for transaction ${hash}; its outcome is unknown`, options);
    this.hash = hash;
  }
}
