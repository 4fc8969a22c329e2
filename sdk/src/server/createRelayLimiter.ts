import { PaymentProblemError } from "../protocol/problems.js";

/** How many transactions a fee-paying gate relays for one payer (and for one channel). */
export type RelayRateLimit = {
  /** Transactions relayed at once before the limit applies; defaults to 4. */
  burst?: number;
  /** Milliseconds in which one more transaction is allowed; defaults to 10 000. */
  interval?: number;
};

export type RelayLimiter = {
  /** Takes one transaction from the allowance of every key, or throws `relay-rate-limited` (429) taking none. */
  take(keys: string[]): void;
};

/** Keys tracked at most; past this, the keys whose allowance has refilled are forgotten first. */
const MAX_KEYS = 50_000;

/** An in-memory token bucket per key (one process: each gate instance relays under its own limit). */
export function createRelayLimiter({ burst = 4, interval = 10_000, now = Date.now }: RelayRateLimit & { now?: () => number }): RelayLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const level = (key: string, at: number) => {
    const bucket = buckets.get(key);
    return bucket === undefined ? burst : Math.min(burst, bucket.tokens + (at - bucket.at) / interval);
  };

  function forgetFull(at: number) {
    for (const key of buckets.keys()) if (level(key, at) >= burst) buckets.delete(key);
    // Still full of keys in use: the oldest go (insertion order), which can only let a transaction through early.
    for (const key of buckets.keys()) {
      if (buckets.size < MAX_KEYS) break;
      buckets.delete(key);
    }
  }

  return {
    take(keys) {
      const at = now();
      const levels = keys.map((key) => level(key, at));
      const lowest = Math.min(...levels);
      if (lowest < 1) {
        const retryAfter = Math.ceil(((1 - lowest) * interval) / 1000);
        throw new PaymentProblemError("relay-rate-limited", {
          detail: `This server pays gas for at most ${burst} relayed transactions per payer and channel, then one every ${interval / 1000}s; retry in ${retryAfter}s or fund the channel yourself (type hash)`,
          retryAfter,
        });
      }
      if (buckets.size + keys.length > MAX_KEYS) forgetFull(at);
      keys.forEach((key, index) => buckets.set(key, { tokens: levels[index]! - 1, at }));
    },
  };
}
