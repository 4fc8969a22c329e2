import type { Address, Hex } from "viem";
import { tollgateEscrowAbi } from "../generated/tollgateEscrowAbi.js";
import { sendContractTransaction } from "./sendContractTransaction.js";
import type { TransactionOptions, TransactionResult } from "./TransactionOptions.js";

export type SettleChannelParameters = TransactionOptions & {
  escrow: Address;
  channelId: Hex;
  /** The voucher's cumulative amount; must exceed what is already settled. */
  cumulativeAmount: bigint;
  /** The voucher's signature. */
  signature: Hex;
};

export type SettleChannelReturnType = TransactionResult;

/** Redeems a voucher without closing the channel (payee only). */
export async function settleChannel({
  escrow,
  channelId,
  cumulativeAmount,
  signature,
  ...options
}: SettleChannelParameters): Promise<SettleChannelReturnType> {
  const { hash, receipt } = await sendContractTransaction({
    ...options,
    address: escrow,
    abi: tollgateEscrowAbi,
    functionName: "settle",
    args: [channelId, cumulativeAmount, signature],
  });
  return { hash, receipt };
}
