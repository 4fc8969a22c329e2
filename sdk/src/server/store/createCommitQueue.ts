import type { Hex } from "viem";
import type { ChannelTransaction } from "./SessionStore.js";

/** One `withChannel` call waiting for its batch: the callback, and how its caller learns the outcome. */
export type QueuedCall = {
  /** Lowercase channel id. */
  channelId: Hex;
  fn: (tx: ChannelTransaction) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
};

export type CreateCommitQueueParameters = {
  /**
   * Runs the calls of one batch in one durable transaction and settles every one of them, each only
   * once the transaction committed (or with its own error). A rejection here is a bug: the calls it
   * left unsettled are rejected with it.
   */
  runBatch(calls: QueuedCall[]): Promise<void>;
  /** Most calls in one batch. */
  maxBatch: number;
  /** Most batches running at once (each with its own connection). Default 1. */
  maxRunning?: number;
  /**
   * Whether a call made while nothing runs or waits starts at once, alone (default true). A store whose
   * batch finishes within the turn it starts in (SQLite's synchronous driver) passes false: there, a
   * call started alone would leave every later call alone too, and nothing would ever be batched.
   */
  startAloneWhenIdle?: boolean;
};

export type CommitQueue = {
  withChannel<T>(channelId: Hex, fn: (tx: ChannelTransaction) => Promise<T>): Promise<T>;
  /** Resolves once every call queued so far has settled. */
  idle(): Promise<void>;
};

/**
 * Group commit: `withChannel` calls that overlap share one durable transaction. A call made while
 * nothing runs or waits starts at once, alone (unless `startAloneWhenIdle` is false): waiting for
 * company would only add latency. Calls made
 * while a batch runs wait; the next batch starts at the end of the event-loop turn its first call
 * arrived in (`setImmediate`), so it holds every call the requests read in that turn made, and no call
 * waits for more than the rest of that turn, or for a running batch to end.
 */
export function createCommitQueue({ runBatch, maxBatch, maxRunning = 1, startAloneWhenIdle = true }: CreateCommitQueueParameters): CommitQueue {
  const pending: QueuedCall[] = [];
  let running = 0;
  let scheduled = false;
  let idleWaiters: (() => void)[] = [];

  function schedule(): void {
    if (scheduled || running >= maxRunning || pending.length === 0) return;
    scheduled = true;
    setImmediate(start);
  }

  function start(): void {
    scheduled = false;
    if (running >= maxRunning || pending.length === 0) return;
    run(pending.splice(0, maxBatch));
    schedule();
  }

  function run(batch: QueuedCall[]): void {
    running++;
    // Called inside withChannel on the fast path: a runBatch that throws at once must still settle.
    (async () => runBatch(batch))()
      .catch((error: unknown) => {
        for (const call of batch) call.reject(error);
      })
      .finally(() => {
        running--;
        schedule();
        if (running === 0 && pending.length === 0) {
          for (const wake of idleWaiters) wake();
          idleWaiters = [];
        }
      });
  }

  return {
    withChannel<T>(channelId: Hex, fn: (tx: ChannelTransaction) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const call = { channelId, fn, resolve: resolve as (value: unknown) => void, reject };
        if (startAloneWhenIdle && running === 0 && pending.length === 0) return run([call]);
        pending.push(call);
        schedule();
      });
    },
    idle() {
      if (running === 0 && pending.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}
