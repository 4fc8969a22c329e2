import type { Address, Hex } from "viem";
import { getChannel } from "../channel/getChannel.js";
import { tollgateEscrowAbi } from "../generated/tollgateEscrowAbi.js";
import { sendContractTransaction } from "./sendContractTransaction.js";
import { sendWithAllowance } from "./sendWithAllowance.js";
import type { TransactionOptions, TransactionResult } from "./TransactionOptions.js";

export type TopUpChannelParameters = TransactionOptions & {
  escrow: Address;
  channelId: Hex;
  /** Base units added to the deposit. */
  additionalDeposit: bigint;
};

export type TopUpChannelReturnType = TransactionResult & {
  /** The `approve` sent first because the allowance was short, or null. */
  approval: TransactionResult | null;
};

/**
 * Adds to the deposit of the client's channel (payer only) and cancels a pending forced close,
 * first approving exactly `additionalDeposit` of the channel's token when the allowance is short (back to
 * back with the top-up, see sendWithAllowance).
 */
export async function topUpChannel({
  escrow,
  channelId,
  additionalDeposit,
  ...options
}: TopUpChannelParameters): Promise<TopUpChannelReturnType> {
  const { client, publicClient = client } = options;
  const channel = await getChannel({ client: publicClient, escrow, channelId });
  const topUp = { ...options, address: escrow, abi: tollgateEscrowAbi, functionName: "topUp", args: [channelId, additionalDeposit] } as const;
  // Without a channel there is nothing to approve for; the simulation reports ChannelNotFound.
  if (channel === null) return { ...(await sendContractTransaction(topUp)), approval: null };
  const { hash, receipt, approval } = await sendWithAllowance({ ...topUp, token: channel.token, amount: additionalDeposit });
  return { hash, receipt, approval };
}
