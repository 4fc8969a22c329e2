import type { Address, Hex } from "viem";
import { tollgateEscrowAbi } from "../generated/tollgateEscrowAbi.js";
import { sendContractTransaction } from "./sendContractTransaction.js";
import type { TransactionOptions, TransactionResult } from "./TransactionOptions.js";

export type WithdrawChannelParameters = TransactionOptions & {
  escrow: Address;
  channelId: Hex;
};

export type WithdrawChannelReturnType = TransactionResult;

/** Refunds the unsettled deposit to the payer after a requested close's grace period, finalizing the channel (payer only). */
export async function withdrawChannel({
  escrow,
  channelId,
  ...options
}: WithdrawChannelParameters): Promise<WithdrawChannelReturnType> {
  const { hash, receipt } = await sendContractTransaction({
    ...options,
    address: escrow,
    abi: tollgateEscrowAbi,
    functionName: "withdraw",
    args: [channelId],
  });
  return { hash, receipt };
}
