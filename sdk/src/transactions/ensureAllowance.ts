import { type Address, erc20Abi } from "viem";
import { readContract } from "viem/actions";
import { sendContractTransaction } from "./sendContractTransaction.js";
import type { TransactionOptions, TransactionResult } from "./TransactionOptions.js";

export type EnsureAllowanceParameters = TransactionOptions & {
  token: Address;
  spender: Address;
  amount: bigint;
};

/**
 * Approves `spender` for exactly `amount` when the current allowance is short of it, and does nothing
 * otherwise. ERC-20 `approve` sets rather than adds, so exactly `amount` is the least that lets the
 * pull succeed, and the pull then uses it all up: no standing allowance is left behind.
 * Returns the approval transaction, or null when none was needed.
 */
export async function ensureAllowance({
  token,
  spender,
  amount,
  ...options
}: EnsureAllowanceParameters): Promise<TransactionResult | null> {
  const { client, publicClient = client } = options;
  const allowance = await readContract(publicClient, {
    address: token,
    abi: erc20Abi,
    functionName: "allowance",
    args: [client.account.address, spender],
  });
  if (allowance >= amount) return null;
  const { hash, receipt } = await sendContractTransaction({
    ...options,
    address: token,
    abi: erc20Abi,
    functionName: "approve",
    args: [spender, amount],
  });
  return { hash, receipt };
}
