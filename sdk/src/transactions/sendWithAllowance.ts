import { type Abi, type Address, type Client, type ContractFunctionName, erc20Abi, type Hex, type TransactionReceipt, type WriteContractParameters } from "viem";
import { getTransactionCount, getTransactionReceipt, readContract, waitForTransactionReceipt } from "viem/actions";
import { ApprovalFailedError } from "../errors/ApprovalFailedError.js";
import { ContractRevertedError } from "../errors/ContractRevertedError.js";
import { sendContractTransaction, type SendContractTransactionParameters, type SendContractTransactionReturnType } from "./sendContractTransaction.js";
import { simulateWithApproval } from "./simulateWithApproval.js";
import { submitContractTransaction } from "./submitContractTransaction.js";
import type { TransactionResult } from "./TransactionOptions.js";
import { waitForTransactionOutcome } from "./waitForTransactionOutcome.js";

type Writable = "nonpayable" | "payable";

export type SendWithAllowanceParameters<abi extends Abi, functionName extends ContractFunctionName<abi, Writable>> = SendContractTransactionParameters<
  abi,
  functionName
> & {
  /** The call pulls `amount` of `token` from the sender (the call's contract is the spender). */
  token: Address;
  amount: bigint;
};

export type SendWithAllowanceReturnType<abi extends Abi, functionName extends ContractFunctionName<abi, Writable>> = SendContractTransactionReturnType<
  abi,
  functionName
> & {
  /** The `approve` sent first because the allowance was short, or null. */
  approval: TransactionResult | null;
};

/**
 * Sends a call that pulls `amount` of `token`, first approving exactly `amount` when the allowance is short
 * (ERC-20 `approve` sets rather than adds, and the pull then uses it all up: no standing allowance is left).
 * The approve and the call go back to back, consecutive nonces, so that both land in one block, and only
 * the call's receipt is awaited. A node that cannot simulate the pair, or a wallet that estimates the
 * call's gas itself (and so sees it revert until the approve is mined), gets them one after the other.
 */
export async function sendWithAllowance<const abi extends Abi, functionName extends ContractFunctionName<abi, Writable>>(
  parameters: SendWithAllowanceParameters<abi, functionName>,
): Promise<SendWithAllowanceReturnType<abi, functionName>> {
  const { token, amount, ...call } = parameters;
  const { client, publicClient = client, timeout, confirmations } = call;
  const spender = call.address;
  const allowance = await readContract(publicClient, { address: token, abi: erc20Abi, functionName: "allowance", args: [client.account.address, spender] });
  if (allowance >= amount) return { ...(await sendContractTransaction(call)), approval: null };
  const approve = { address: token, abi: erc20Abi, functionName: "approve", args: [spender, amount] } as const;
  const simulated = await simulateWithApproval({ ...call, token, spender, amount });
  if (simulated === null) {
    const approval = await sendContractTransaction({ ...call, ...approve });
    return { ...(await sendContractTransaction(call)), approval: { hash: approval.hash, receipt: approval.receipt } };
  }
  // A JSON-RPC wallet assigns its own nonces, in the order it is asked; a local account is given them.
  const nonce = client.account.type === "local" ? await getTransactionCount(publicClient, { address: client.account.address, blockTag: "pending" }) : undefined;
  const next = nonce === undefined ? {} : { nonce: nonce + 1 };
  const approval = await submitContractTransaction({ client, request: { ...approve, gas: simulated.approveGas, ...(nonce === undefined ? {} : { nonce }) } as unknown as WriteContractParameters });
  let hash: Hex;
  try {
    const { address, abi, functionName, args } = call;
    hash = await submitContractTransaction({ client, request: { address, abi, functionName, args, gas: simulated.gas, ...next } as unknown as WriteContractParameters });
  } catch (error) {
    // A revert here is a wallet that dropped the gas limit and estimated the call before the approve was mined.
    if (!(error instanceof ContractRevertedError)) throw error;
    const receipt = await waitForTransactionOutcome({ client: publicClient, hash: approval, timeout });
    return { ...(await sendContractTransaction(call)), approval: { hash: approval, receipt } };
  }
  let receipt: TransactionReceipt;
  try {
    receipt = await waitForTransactionOutcome({ client: publicClient, hash, timeout, confirmations });
  } catch (error) {
    if (error instanceof ContractRevertedError && !(await approvedBefore(publicClient, approval, error.receipt))) throw new ApprovalFailedError({ approval, hash, cause: error });
    throw error;
  }
  // Mined in the same block as the call (or before it) in all but a race with another approve of this spender.
  const approvalReceipt = await waitForTransactionReceipt(publicClient, { hash: approval, timeout });
  return { hash, receipt, result: simulated.result as SendWithAllowanceReturnType<abi, functionName>["result"], approval: { hash: approval, receipt: approvalReceipt } };
}

/** Whether `approval` was mined successfully before the call that reverted in `reverted`. */
async function approvedBefore(client: Client, approval: Hex, reverted: TransactionReceipt | undefined): Promise<boolean> {
  const receipt = await getTransactionReceipt(client, { hash: approval }).catch(() => undefined);
  if (receipt === undefined || reverted === undefined || receipt.status !== "success") return false;
  return receipt.blockNumber < reverted.blockNumber || (receipt.blockNumber === reverted.blockNumber && receipt.transactionIndex < reverted.transactionIndex);
}
