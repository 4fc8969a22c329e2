import type { Address, Hex } from "viem";
import type { VerifiedVoucher } from "../../accounting.js";

const MAX_CHANNELS = 50_000;

/**
 * The last voucher of each channel whose EOA signature this gate verified, so that an exact replay of it
 * (a client paying several requests from one prepaid voucher sends the same voucher again) is admitted
 * without a second recovery. Exact means the same signer, amount and signature string: verification is
 * a pure function of those and the channel's domain, so the answer cannot have changed. Contract-wallet
 * (ERC-1271) signatures are never remembered: the wallet may revoke them.
 */
export function createVerifiedVouchers() {
  const last = new Map<Hex, string>();
  const identity = (signer: Address, { cumulativeAmount, signature }: VerifiedVoucher) => `${signer}:${cumulativeAmount}:${signature}`;
  return {
    has: (channelId: Hex, signer: Address, voucher: VerifiedVoucher): boolean => last.get(channelId) === identity(signer, voucher),
    remember(channelId: Hex, signer: Address, voucher: VerifiedVoucher): void {
      if (last.size >= MAX_CHANNELS && !last.has(channelId)) last.clear();
      last.set(channelId, identity(signer, voucher));
    },
  };
}
