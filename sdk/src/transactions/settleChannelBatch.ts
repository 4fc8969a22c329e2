import type { Address, Hex } from "viem";
import { tollgateEscrowAbi } from "../generated/tollgateEscrowAbi.js";
import { sendContractTransaction } from "./sendContractTransaction.js";
import type { TransactionOptions, TransactionResult } from "./TransactionOptions.js";

/** One voucher to redeem in a batch. */
export type VoucherClaim = {
  channelId: Hex;
  cumulativeAmount: bigint;
  signature: Hex;
};

export type SettleChannelBatchParameters = TransactionOptions & {
  escrow: Address;
  /** Every claimed channel must hold this token. */
  token: Address;
  claims: readonly VoucherClaim[];
};

export type SettleChannelBatchReturnType = TransactionResult & {
  /** Total paid out to the payee, in base units. */
  amount: bigint;
};

/** Redeems vouchers of many of the payee's channels in one transaction; one bad claim reverts all. */
export async function settleChannelBatch({
  escrow,
  token,
  claims,
  ...options
}: SettleChannelBatchParameters): Promise<SettleChannelBatchReturnType> {
  const { hash, receipt, result } = await sendContractTransaction({
    ...options,
    address: escrow,
    abi: tollgateEscrowAbi,
    functionName: "settleBatch",
    args: [token, claims],
  });
  return { hash, receipt, amount: result };
}
