import type { Hex } from "viem";
import type { QueuedCall } from "./createCommitQueue.js";
import type { ChannelTransaction } from "./SessionStore.js";

/** Thrown by a call after which the batch's transaction cannot go on (a write could not be undone). */
class BatchAborted {
  constructor(readonly cause: unknown) {}
}

/** Ends the whole batch from inside one of its calls: every call in it fails with `cause`, nothing is committed. */
export function abortBatch(cause: unknown): never {
  throw new BatchAborted(cause);
}

export type CommitSqliteBatchParameters = {
  calls: QueuedCall[];
  /** Opens the batch's write transaction. */
  begin(): Promise<void>;
  /** Runs one call inside it; on failure its own writes are already undone (a savepoint) and the others stand. */
  run(channelId: Hex, fn: (tx: ChannelTransaction) => Promise<unknown>): Promise<unknown>;
  /** Commits (one WAL append); on failure it has rolled back. */
  commit(): void;
  rollback(): void;
};

/**
 * One SQLite group commit: a single write transaction runs the batch's calls one after another (each
 * sees the writes of those before it, as if they had committed), then commits once. A call whose
 * callback or writes fail is answered with its error at once and leaves the others untouched; the
 * others are answered only after the commit, so none learns of a write that is not durable.
 */
export async function commitSqliteBatch({ calls, begin, run, commit, rollback }: CommitSqliteBatchParameters): Promise<void> {
  try {
    await begin();
  } catch (error) {
    for (const call of calls) call.reject(error);
    return;
  }
  const done: { call: QueuedCall; result: unknown }[] = [];
  for (const call of calls) {
    try {
      done.push({ call, result: await run(call.channelId, call.fn) });
    } catch (error) {
      if (error instanceof BatchAborted) {
        rollback();
        for (const each of calls) each.reject(error.cause);
        return;
      }
      call.reject(error);
    }
  }
  try {
    commit();
  } catch (error) {
    for (const { call } of done) call.reject(error);
    return;
  }
  for (const { call, result } of done) call.resolve(result);
}
