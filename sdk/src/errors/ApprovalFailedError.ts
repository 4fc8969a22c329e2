import type { Hex } from "viem";
import type { ContractRevertedError } from "./ContractRevertedError.js";
import { TollgateError } from "./TollgateError.js";

/**
 * An `approve` sent back to back with the call that spends it (an open, a top-up) reverted, was replaced,
 * or was not mined before that call, so the call reverted for want of allowance. Final: the call moved
 * nothing (nothing was escrowed); the approve may still be mined later and leave its allowance standing.
 */
export class ApprovalFailedError extends TollgateError {
  override name = "ApprovalFailedError";
  /** The approve transaction. */
  readonly approval: Hex;
  /** The call that reverted without the allowance. */
  readonly hash: Hex;

  constructor({ approval, hash, cause }: { approval: Hex; hash: Hex; cause: ContractRevertedError }) {
    super("APPROVAL_FAILED", `Transaction ${hash} reverted: its approve ${approval} did not take effect before it`, { cause });
    this.approval = approval;
    this.hash = hash;
  }
}
