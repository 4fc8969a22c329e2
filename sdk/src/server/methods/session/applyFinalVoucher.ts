import { acceptVoucher, type VerifiedVoucher } from "../../accounting.js";
import type { ChannelRecord } from "../../store/SessionStore.js";

/**
 * Applies the verified voucher of a buyer's `close` to the channel it closes. One at or above the
 * accepted voucher is accepted like any other. One below it that still covers what was delivered and
 * what is being served (`spent + reserved`, and `held`: what this process holds for requests it admitted
 * without storing) replaces it, so that the close captures only that and the buyer gets back what it
 * prepaid. One below that is ignored: the highest accepted voucher closes.
 */
export function applyFinalVoucher(channel: ChannelRecord, voucher: VerifiedVoucher, held: bigint): ChannelRecord {
  if (voucher.cumulativeAmount >= channel.acceptedCumulative) return acceptVoucher(channel, voucher, 0n);
  if (voucher.cumulativeAmount < channel.spent + channel.reserved + held) return channel;
  return { ...channel, acceptedCumulative: voucher.cumulativeAmount, acceptedSignature: voucher.signature };
}
