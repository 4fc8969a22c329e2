import type { Hex, TransactionReceipt } from "viem";
import { TollgateError, type TollgateErrorOptions } from "./TollgateError.js";

export type ContractRevertedErrorParameters = TollgateErrorOptions & {
  /** Custom error name from the ABI (`"Error"` / `"Panic"` for the built-in ones); undefined when the revert data is empty or unknown. */
  errorName?: string | undefined;
  args?: readonly unknown[] | undefined;
  /** Raw revert data, when the node returned any. */
  data?: Hex | undefined;
  /** Set when the transaction was mined and reverted; unset when simulation rejected it and nothing was sent. */
  hash?: Hex | undefined;
  receipt?: TransactionReceipt | undefined;
};

/**
 * A final, definitive failure: the call reverts (in simulation, before anything was sent) or the
 * transaction was mined with status 0 and changed no state. Retrying the same call will not help.
 */
export class ContractRevertedError extends TollgateError {
  override name = "ContractRevertedError";
  readonly errorName: string | undefined;
  readonly args: readonly unknown[] | undefined;
  readonly data: Hex | undefined;
  readonly hash: Hex | undefined;
  readonly receipt: TransactionReceipt | undefined;

  constructor({ errorName, args, data, hash, receipt, cause }: ContractRevertedErrorParameters) {
    const what = hash === undefined ? "Call would revert" : `Transaction ${hash} reverted`;
    super("CONTRACT_REVERTED", `${what}${errorName === undefined ? "" : `: ${errorName}`}`, { cause });
    this.errorName = errorName;
    this.args = args;
    this.data = data;
    this.hash = hash;
    this.receipt = receipt;
  }
}
