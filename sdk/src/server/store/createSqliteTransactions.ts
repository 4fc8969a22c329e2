import { StoreError } from "../../errors/StoreError.js";
import type { ChannelScope } from "./channelScope.js";
import { commitSqliteBatch } from "./commitSqliteBatch.js";
import { type CommitQueue, createCommitQueue } from "./createCommitQueue.js";
import type { SqliteConnections } from "./createSqliteConnections.js";
import type { SqliteRecordCache } from "./createSqliteRecordCache.js";
import type { SqliteStatements } from "./prepareSqliteStatements.js";
import { runSqliteCall } from "./runSqliteCall.js";
import { databaseError, isBusy } from "./sqliteStoreError.js";

const MAX_BACKOFF_MS = 25;
// Most withChannel calls sharing one write transaction (and one WAL append).
const MAX_BATCH = 64;

export type CreateSqliteTransactionsParameters = {
  /** The database file, for errors. */
  path: string;
  /** How long a write transaction waits for the write lock another process holds. */
  busyTimeout: number;
  statements: SqliteStatements;
  cache: SqliteRecordCache;
  connections: SqliteConnections;
  scope: ChannelScope;
};

export type SqliteTransactions = {
  /** `withChannel` calls, batched: the calls of one turn share one write transaction. */
  commits: CommitQueue;
  /** One statement in its own write transaction, queued behind this process's transactions. */
  writeOnce<T>(statement: () => T): Promise<T>;
};

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The store's write transactions on its writer connection, each under the database write lock (`BEGIN IMMEDIATE`). */
export function createSqliteTransactions({ path, busyTimeout, statements, cache, connections, scope }: CreateSqliteTransactionsParameters): SqliteTransactions {
  const { enqueue, assertOpen } = connections;

  function rollback(): void {
    cache.rollback();
    try {
      statements.rollback.run();
    } catch {
      // No transaction left to roll back (SQLite ends some on error by itself).
    }
  }

  async function beginImmediate(): Promise<void> {
    const deadline = Date.now() + busyTimeout;
    for (let delay = 1; ; delay = Math.min(delay * 2, MAX_BACKOFF_MS)) {
      try {
        statements.begin.run();
        return;
      } catch (error) {
        if (!isBusy(error)) throw databaseError("BEGIN", error);
        if (Date.now() >= deadline) {
          throw new StoreError("busy", `SQLite database ${path} stayed locked by another connection for ${busyTimeout} ms`, {
            cause: error,
          });
        }
      }
      // Jitter keeps two processes from retrying in lockstep.
      await sleep(delay * (0.5 + Math.random()));
    }
  }

  const commits = createCommitQueue({
    maxBatch: MAX_BATCH,
    // A batch here commits within the turn it starts in: only calls made in one turn can share one.
    startAloneWhenIdle: false,
    runBatch: (calls) =>
      enqueue(() =>
        commitSqliteBatch({
          calls,
          begin: async () => {
            assertOpen();
            await beginImmediate();
            try {
              cache.begin();
            } catch (error) {
              rollback();
              throw databaseError("read", error);
            }
          },
          run: (channelId, fn) => runSqliteCall({ channelId, fn, statements, cache, scope }),
          commit: () => {
            try {
              statements.commit.run();
            } catch (error) {
              rollback();
              throw databaseError("commit", error);
            }
            cache.commit();
          },
          rollback,
        }),
      ),
  });

  function writeOnce<T>(statement: () => T): Promise<T> {
    return enqueue(async () => {
      assertOpen();
      await beginImmediate();
      try {
        const result = statement();
        statements.commit.run();
        return result;
      } catch (error) {
        rollback();
        throw databaseError("write", error);
      }
    });
  }

  return { commits, writeOnce };
}
