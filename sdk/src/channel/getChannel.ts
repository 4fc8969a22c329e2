import { type Address, type Client, type Hex, zeroAddress } from "viem";
import { readContract } from "viem/actions";
import { tollgateEscrowAbi } from "../generated/tollgateEscrowAbi.js";
import type { Channel } from "./Channel.js";

export type GetChannelParameters = {
  client: Client;
  escrow: Address;
  channelId: Hex;
  /** Read at this block instead of the latest, e.g. the block that confirmed an open. */
  blockNumber?: bigint | undefined;
};

/** The channel's state, or null when no channel with this id was ever opened. */
export type GetChannelReturnType = Channel | null;

/** Reads a channel from the escrow. Finalized channels are returned too (`finalized: true`): records are never deleted. */
export async function getChannel({ client, escrow, channelId, blockNumber }: GetChannelParameters): Promise<GetChannelReturnType> {
  const channel = await readContract(client, {
    address: escrow,
    abi: tollgateEscrowAbi,
    functionName: "getChannel",
    args: [channelId],
    ...(blockNumber === undefined ? {} : { blockNumber }),
  });
  return channel.payer === zeroAddress ? null : channel;
}
