import { type Hex, zeroAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { SessionKeyMissingError } from "../errors/SessionKeyMissingError.js";
import { signVoucher } from "../voucher/signVoucher.js";
import type { ClientChannel } from "./ClientChannel.js";
import type { PayingContext } from "./PayingContext.js";

export type SignChannelVoucherParameters = {
  context: PayingContext;
  /** The stored channel: its own escrow, id and signer, never a seller's claim. */
  channel: ClientChannel;
  cumulativeAmount: bigint;
};

/**
 * Signs a voucher for one of this client's channels with the signer the channel names: its session key
 * when it has an `authorizedSigner`, else the payer's wallet.
 */
export async function signChannelVoucher({ context, channel, cumulativeAmount }: SignChannelVoucherParameters): Promise<Hex> {
  const voucher = { chainId: channel.chainId, escrow: channel.escrow, channelId: channel.channelId, cumulativeAmount };
  const authorizedSigner = channel.authorizedSigner ?? zeroAddress;
  if (authorizedSigner === zeroAddress) return signVoucher({ account: context.account, ...voucher });
  const sessionKey = channel.sessionKey && privateKeyToAccount(channel.sessionKey);
  // A key that is not the channel's signer would sign vouchers the escrow refuses.
  if (!sessionKey || sessionKey.address.toLowerCase() !== authorizedSigner.toLowerCase()) {
    throw new SessionKeyMissingError(channel.channelId, `The store holds no session key for ${authorizedSigner}, the signer of channel ${channel.channelId}: close it (requestClose, then withdraw)`);
  }
  return signVoucher({ account: sessionKey, ...voucher });
}
