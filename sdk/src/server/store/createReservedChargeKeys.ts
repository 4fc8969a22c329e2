import type { Hex } from "viem";
import type { ChargeRecord } from "./SessionStore.js";

export type CreateReservedChargeKeysParameters = {
  /** Most channels remembered; the least recently written is forgotten first. */
  maxChannels: number;
  /** Most keys remembered per channel; the oldest is forgotten first. */
  maxKeysPerChannel: number;
};

export type ReservedChargeKeys = {
  /** The keys of `channelId`'s charges this instance last committed as reserved. */
  keys(channelId: Hex): readonly string[];
  /** Records charges as committed (or as read under the channel's lock): reserved ones are remembered, the rest forgotten. */
  record(charges: readonly ChargeRecord[]): void;
  /** Forgets a key a read under the lock found gone or no longer reserved. */
  forget(channelId: Hex, key: string): void;
};

/**
 * The charges this store instance left reserved, by channel: a reservation is almost always finished
 * (read, then committed or released) by the next `withChannel` on its channel, so reading these charges
 * in the round trip that locks the channel spares that call a read. Only a guess of what to read: the
 * rows themselves are read under the lock, so a key another instance finished, or forgot, costs nothing
 * but a primary-key lookup that finds the charge as it is.
 */
export function createReservedChargeKeys({ maxChannels, maxKeysPerChannel }: CreateReservedChargeKeysParameters): ReservedChargeKeys {
  // Insertion order is recency: a channel written again moves to the end.
  const byChannel = new Map<Hex, Set<string>>();

  function forget(channelId: Hex, key: string): void {
    const keys = byChannel.get(channelId);
    if (keys === undefined) return;
    keys.delete(key);
    if (keys.size === 0) byChannel.delete(channelId);
  }

  return {
    keys: (channelId) => [...(byChannel.get(channelId) ?? [])],
    record(charges) {
      for (const { channelId, key, status } of charges) {
        if (status !== "reserved") {
          forget(channelId, key);
          continue;
        }
        const keys = byChannel.get(channelId) ?? new Set();
        byChannel.delete(channelId);
        byChannel.set(channelId, keys.add(key));
        if (keys.size > maxKeysPerChannel) keys.delete(keys.values().next().value!);
        if (byChannel.size > maxChannels) byChannel.delete(byChannel.keys().next().value!);
      }
    },
    forget,
  };
}
