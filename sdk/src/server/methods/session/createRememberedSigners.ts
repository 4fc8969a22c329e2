import type { Hex } from "viem";
import type { ChannelRecord } from "../../store/SessionStore.js";
import type { ChannelSigner } from "./createFunding.js";

const MAX_KNOWN_SIGNERS = 50_000;

/**
 * Signers of channels this gate has stored. A voucher on one of them is verified and admitted in one
 * transaction, without first reading the channel from the store (a channel's signer is fixed at open).
 */
export function createRememberedSigners() {
  const signers = new Map<Hex, ChannelSigner>();
  return {
    get: (channelId: Hex): ChannelSigner | undefined => signers.get(channelId),
    remember({ channelId, payer, authorizedSigner }: ChannelRecord): void {
      if (signers.has(channelId)) return;
      if (signers.size >= MAX_KNOWN_SIGNERS) signers.clear();
      signers.set(channelId, { channelId, payer, authorizedSigner });
    },
  };
}

export type RememberedSigners = ReturnType<typeof createRememberedSigners>;
