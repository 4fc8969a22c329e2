import type { Address, Hex } from "viem";
import { tollgateEscrowAbi } from "../generated/tollgateEscrowAbi.js";
import { sendContractTransaction } from "./sendContractTransaction.js";
import type { TransactionOptions, TransactionResult } from "./TransactionOptions.js";

export type RequestChannelCloseParameters = TransactionOptions & {
  escrow: Address;
  channelId: Hex;
};

export type RequestChannelCloseReturnType = TransactionResult;

/** Starts a forced close (payer only); withdrawChannel works once the grace period has passed. */
export async function requestChannelClose({
  escrow,
  channelId,
  ...options
}: RequestChannelCloseParameters): Promise<RequestChannelCloseReturnType> {
  const { hash, receipt } = await sendContractTransaction({
    ...options,
    address: escrow,
    abi: tollgateEscrowAbi,
    functionName: "requestClose",
    args: [channelId],
  });
  return { hash, receipt };
}
