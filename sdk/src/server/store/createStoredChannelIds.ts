import type { Hex } from "viem";

export type StoredChannelIds = {
  has(channelId: Hex): boolean;
  /** Remembers channels seen stored (read under their lock, or written by a committed transaction). */
  add(channelId: Hex): void;
};

/**
 * The channels this store instance has seen stored in PostgreSQL. A channel's row is never deleted, so once
 * it is stored its row lock alone excludes every other writer, and a transaction on it needs no advisory
 * lock: that lock only stands in for a row that may not exist yet (a lone creator takes it, then finds
 * the row and waits on its lock). Forgetting is harmless (the next transaction takes the advisory lock
 * again), so past `max` ids the set starts over.
 */
export function createStoredChannelIds(max: number): StoredChannelIds {
  const ids = new Set<Hex>();
  return {
    has: (channelId) => ids.has(channelId),
    add(channelId) {
      if (ids.size >= max && !ids.has(channelId)) ids.clear();
      ids.add(channelId);
    },
  };
}
