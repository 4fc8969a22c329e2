import type { Hex, TransactionReceipt } from "viem";
import { TollgateError } from "./TollgateError.js";

/**
 * A different transaction with the same sender and nonce was mined instead (cancelled or replaced by
 * the wallet), so the original can never execute. Final, like a revert.
 */
export class TransactionReplacedError extends TollgateError {
  override name = "TransactionReplacedError";
  readonly hash: Hex;
  readonly replacement: TransactionReceipt;

  constructor(hash: Hex, replacement: TransactionReceipt) {
    super("TRANSACTION_REPLACED", `Transaction ${hash} was replaced by ${replacement.transactionHash}`);
    this.hash = hash;
    this.replacement = replacement;
  }
}
