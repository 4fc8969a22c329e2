import { type Address, erc20Abi } from "viem";
import { readContract } from "viem/actions";
import { sendContractTransaction } from "../../../transactions/sendContractTransaction.js";
import type { PayingContext } from "../../PayingContext.js";

export type ApprovePermit2Parameters = {
  context: PayingContext;
  token: Address;
  permit2: Address;
  /** What the permit about to be signed moves. */
  amount: bigint;
  /** What to approve when the allowance is short (at least `amount`): a bound the caller chooses, never unbounded. */
  approval: bigint;
};

/**
 * Makes the payer's ERC-20 allowance to Permit2 cover `amount` (Permit2 pulls the tokens with it): when
 * it is short, the payer approves `approval` and waits for it to be mined. The caller runs it inside
 * `context.transacting` (the payer's transactions share its nonce). Resolves with whether it approved.
 */
export async function approvePermit2({ context, token, permit2, amount, approval }: ApprovePermit2Parameters): Promise<boolean> {
  const { account, publicClient, transactionOptions } = context;
  const allowance = await readContract(publicClient, { address: token, abi: erc20Abi, functionName: "allowance", args: [account.address, permit2] });
  if (allowance >= amount) return false;
  await sendContractTransaction({ ...transactionOptions, address: token, abi: erc20Abi, functionName: "approve", args: [permit2, approval > amount ? approval : amount] });
  return true;
}
