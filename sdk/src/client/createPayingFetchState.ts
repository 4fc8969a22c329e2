import type { ClientChannel } from "./ClientChannel.js";
import type { OneTimePayment } from "./methods/OneTimePayment.js";

/** What a paying fetch holds and is doing, as `getState()` shows it and `subscribe` reports it. Amounts are base units. */
export type PayingFetchState = {
  /**
   * Paid requests in flight: each from the moment the client chose to pay it (a 402's offer, or a
   * session already open for its route) until its response, its channel's open or top-up included; and
   * each voucher a stream asked for, while it is sent.
   */
  paying: number;
  /** Closes (`close`) and forced-exit transactions (`requestClose`, `withdraw`) in flight. */
  closing: number;
  /** As `channels()`: this payer's channels, without session keys. */
  channels: readonly ClientChannel[];
  /** As `payments()`. */
  payments: readonly OneTimePayment[];
  /** As `totalSpent()`. */
  totalSpent: bigint;
  /** As `totalAuthorized()`. */
  totalAuthorized: bigint;
  /** What the latest call to settle (the fetch, `close`, `requestClose`, `withdraw`) threw; undefined when it succeeded. */
  error: Error | undefined;
};

export type PayingFetchTotals = Pick<PayingFetchState, "channels" | "payments" | "totalSpent" | "totalAuthorized">;

export type CreatePayingFetchStateParameters = {
  /** Reads the totals from the client's stores. */
  read(): Promise<PayingFetchTotals>;
};

export type PayingFetchStateReturnType = {
  /**
   * The current state: the same object until something changes, so it can be compared by identity. Its
   * counters and error are always current; its totals are read again on a change only while someone
   * subscribes. Without a subscriber, totals a change left stale are read in the background when this is
   * called, so that a caller polling it sees them on a later call.
   */
  getState(): PayingFetchState;
  /** Calls `listener` after every change; returns the function that stops it. A first subscriber gets stale totals read again. */
  subscribe(listener: (state: PayingFetchState) => void): () => void;
  /** The stores changed: their totals are read again while someone subscribes, otherwise only marked stale. */
  changed(): Promise<void>;
  /**
   * Runs one call of the client: counts it in `kind` once `begin()` is called (a fetch calls it when it
   * decides to pay), records what it threw as `error` (or clears it), and, while someone subscribes,
   * reads the totals again before it returns, so that the state a caller reads after `await` already shows the call.
   */
  track<T>(kind: "paying" | "closing", task: (begin: () => void) => Promise<T>): Promise<T>;
};

/**
 * The live state behind a paying fetch's `getState` and `subscribe`: counters of what is in flight and
 * totals read from its stores. Reading the totals lists the channel store and the payments, so it is
 * lazy: an agent that never subscribes pays no listing per request. Counters are kept in memory and are
 * always current; the totals are read after each change only while someone listens, and otherwise
 * marked stale and read when someone subscribes or calls `getState` (which is synchronous, so that call
 * still returns the last totals read). Reads are coalesced (one running, at most one queued), so a burst
 * of vouchers costs a few store reads, not one each, and they apply in order.
 */
export function createPayingFetchState({ read }: CreatePayingFetchStateParameters): PayingFetchStateReturnType {
  let state: PayingFetchState = { paying: 0, closing: 0, channels: [], payments: [], totalSpent: 0n, totalAuthorized: 0n, error: undefined };
  const listeners = new Set<(state: PayingFetchState) => void>();
  // Nothing read yet: the first subscriber or getState reads.
  let stale = true;

  function set(changes: Partial<PayingFetchState>) {
    if ((Object.keys(changes) as (keyof PayingFetchState)[]).every((key) => Object.is(state[key], changes[key]))) return;
    state = { ...state, ...changes };
    for (const listener of [...listeners]) listener(state);
  }

  let last: Promise<void> = Promise.resolve();
  let queued: Promise<void> | undefined;
  function refresh() {
    // A read queued but not begun will see every change made so far: callers share it.
    queued ??= last = last.then(async () => {
      queued = undefined;
      stale = false;
      // A store that fails to read leaves the last totals shown; the calls themselves report the failure.
      await read().then(set, () => {});
    });
    return queued;
  }

  function changed(): Promise<void> {
    if (listeners.size > 0) return refresh();
    stale = true;
    return Promise.resolve();
  }

  async function track<T>(kind: "paying" | "closing", task: (begin: () => void) => Promise<T>): Promise<T> {
    let counted = false;
    const begin = () => {
      if (counted) return;
      counted = true;
      set({ [kind]: state[kind] + 1 });
    };
    let error: Error | undefined;
    try {
      return await task(begin);
    } catch (thrown) {
      error = thrown instanceof Error ? thrown : new Error(String(thrown));
      throw thrown;
    } finally {
      if (counted) await changed();
      set({ ...(counted ? { [kind]: state[kind] - 1 } : {}), error });
    }
  }

  return {
    getState() {
      if (stale) void refresh();
      return state;
    },
    subscribe(listener) {
      listeners.add(listener);
      if (stale) void refresh();
      return () => void listeners.delete(listener);
    },
    changed,
    track,
  };
}
