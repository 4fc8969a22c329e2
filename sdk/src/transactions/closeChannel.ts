import type { Address, Hex } from "viem";
import { tollgateEscrowAbi } from "../generated/tollgateEscrowAbi.js";
import { sendContractTransaction } from "./sendContractTransaction.js";
import type { TransactionOptions, TransactionResult } from "./TransactionOptions.js";

export type CloseChannelParameters = TransactionOptions & {
  escrow: Address;
  channelId: Hex;
  /** The final voucher's cumulative amount; at or below what is settled, the payee forfeits the rest. */
  cumulativeAmount: bigint;
  /** The final voucher's signature; may be omitted on the forfeit path. */
  signature?: Hex | undefined;
};

export type CloseChannelReturnType = TransactionResult;

/** Settles a final voucher, refunds the rest to the payer and finalizes the channel (payee only). */
export async function closeChannel({
  escrow,
  channelId,
  cumulativeAmount,
  signature = "0x",
  ...options
}: CloseChannelParameters): Promise<CloseChannelReturnType> {
  const { hash, receipt } = await sendContractTransaction({
    ...options,
    address: escrow,
    abi: tollgateEscrowAbi,
    functionName: "close",
    args: [channelId, cumulativeAmount, signature],
  });
  return { hash, receipt };
}
