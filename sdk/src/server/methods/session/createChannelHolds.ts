import type { Hex } from "viem";
import type { VerifiedVoucher } from "../../accounting.js";
import type { ChannelRecord } from "../../store/SessionStore.js";
import type { ChannelSigner } from "./createFunding.js";

const MAX_CHANNELS = 50_000;

type Entry = {
  /** The channel as this process last stored or read it under its lock; unset after a failed write. */
  stored?: ChannelRecord;
  /** The highest voucher admitted here that may not be stored yet. */
  voucher?: VerifiedVoucher;
  /** Cost held for this process's requests being served on the channel, and how many they are. */
  held: bigint;
  requests: number;
};

/**
 * What this process knows of its channels beyond the store: the record it last wrote or read, and the
 * requests it admitted without writing (their vouchers and held costs). A plain voucher on a channel
 * known here is admitted from this view with no store round trip and charged with one write when its
 * response is ready; the charge is checked again then, under the channel's lock, against the stored
 * channel, so a view that is stale (another instance spent from the channel) costs a refused response,
 * never money. A channel's signer is fixed at open, so it is also read from here.
 */
export function createChannelHolds() {
  const entries = new Map<Hex, Entry>();

  function entry(channelId: Hex): Entry {
    let found = entries.get(channelId);
    if (found === undefined) {
      if (entries.size >= MAX_CHANNELS) evictIdle();
      entries.set(channelId, (found = { held: 0n, requests: 0 }));
    }
    return found;
  }

  // Channels with requests in flight keep their holds: dropping them would let later requests spend them.
  function evictIdle(): void {
    for (const [channelId, { requests }] of entries) if (requests === 0) entries.delete(channelId);
  }

  return {
    signer(channelId: Hex): ChannelSigner | undefined {
      return entries.get(channelId)?.stored;
    },

    /** The channel as this process sees it: as stored, with the vouchers it admitted and the costs it holds. */
    view(channelId: Hex): ChannelRecord | undefined {
      const found = entries.get(channelId);
      if (found?.stored === undefined) return undefined;
      const { stored, voucher, held } = found;
      const raised = voucher !== undefined && voucher.cumulativeAmount > stored.acceptedCumulative;
      if (!raised && held === 0n) return stored;
      return {
        ...stored,
        reserved: stored.reserved + held,
        ...(raised ? { acceptedCumulative: voucher.cumulativeAmount, acceptedSignature: voucher.signature } : {}),
      };
    },

    /** The highest voucher this process admitted on the channel and may not have stored yet. */
    voucher(channelId: Hex): VerifiedVoucher | undefined {
      return entries.get(channelId)?.voucher;
    },

    /** Cost this process holds on the channel, which the store does not know about. */
    held(channelId: Hex): bigint {
      return entries.get(channelId)?.held ?? 0n;
    },

    /**
     * Holds `cost` for a request admitted on `voucher` (already checked against `view`); resolves with what
     * ends the hold, once however often it is called: the write that charges or releases the request
     * calls it inside its transaction, where the charge takes the hold's place.
     */
    hold(channelId: Hex, voucher: VerifiedVoucher, cost: bigint): () => void {
      const found = entry(channelId);
      if (found.voucher === undefined || voucher.cumulativeAmount > found.voucher.cumulativeAmount) found.voucher = voucher;
      found.held += cost;
      found.requests += 1;
      let held = true;
      return () => {
        if (!held) return;
        held = false;
        found.held -= cost;
        found.requests -= 1;
      };
    },

    /** Records the channel as a transaction of this process is about to commit it (or read it under the lock). */
    stored(channel: ChannelRecord): void {
      const found = entry(channel.channelId);
      found.stored = channel;
      if (found.voucher !== undefined && found.voucher.cumulativeAmount <= channel.acceptedCumulative) delete found.voucher;
    },

    /** Forgets the stored record after a failed write: the next request reads the channel from the store. */
    forget(channelId: Hex): void {
      const found = entries.get(channelId);
      if (found !== undefined) delete found.stored;
    },
  };
}

export type ChannelHolds = ReturnType<typeof createChannelHolds>;
