import { type Address, zeroAddress } from "viem";
import type { Channel } from "../channel/Channel.js";

export type GetVoucherSignerParameters = {
  channel: Pick<Channel, "payer" | "authorizedSigner">;
};

/** Who must sign the channel's vouchers: its `authorizedSigner`, or the payer when that is zero. */
export function getVoucherSigner({ channel }: GetVoucherSignerParameters): Address {
  return channel.authorizedSigner === zeroAddress ? channel.payer : channel.authorizedSigner;
}
