import type { StatementSync } from "node:sqlite";
import { StoreError } from "../../errors/StoreError.js";
import type { SqliteDatabase } from "./openSqliteDatabase.js";
import { databaseError } from "./sqliteStoreError.js";

const CHECKPOINT_INTERVAL = 1_000;

export type CreateSqliteConnectionsParameters = SqliteDatabase & {
  /** Whether the database is a private in-memory one (no file, so no WAL to checkpoint). */
  inMemory: boolean;
};

export type SqliteConnections = {
  /** Runs `job` once every job queued before it has settled: the writer's transactions take turns. */
  enqueue<T>(job: () => Promise<T> | T): Promise<T>;
  /** Runs a read on the reader connection (on the writer, queued, in memory); failures are `database` StoreErrors. */
  read<T>(query: () => T): Promise<T>;
  /** The statement for `sql` on the connection reads use, prepared on first use. */
  readStatement(sql: string): StatementSync;
  /** Throws a `closed` StoreError once `close` has been called. */
  assertOpen(): void;
  /** Stops checkpoints, waits for `idle` and for every queued job, then closes both connections. Later calls do nothing. */
  close(parameters: { idle(): Promise<void> }): Promise<void>;
};

/**
 * The order in which this process uses its connections: the writer's work queued in arrival order,
 * reads beside it, WAL checkpoints on a timer between transactions, and closing once all of it is done.
 */
export function createSqliteConnections({ writer, reader, inMemory }: CreateSqliteConnectionsParameters): SqliteConnections {
  let closed = false;
  function assertOpen(): void {
    if (closed) throw new StoreError("closed", "The session store is closed");
  }

  const readDb = reader ?? writer;
  const readStatements = new Map<string, StatementSync>();
  function readStatement(sql: string): StatementSync {
    let statement = readStatements.get(sql);
    if (statement === undefined) readStatements.set(sql, (statement = readDb.prepare(sql)));
    return statement;
  }

  // node:sqlite is synchronous on one connection, so the transactions of this process must not
  // interleave at their awaits: they queue here, in arrival order, whatever their channel.
  let tail: Promise<unknown> = Promise.resolve();
  function enqueue<T>(job: () => Promise<T> | T): Promise<T> {
    const run = tail.then(job);
    tail = run.catch(() => undefined);
    return run;
  }
  // With a reader connection, reads need no queue: they see committed data only.
  function read<T>(query: () => T): Promise<T> {
    assertOpen();
    if (reader !== undefined) {
      try {
        return Promise.resolve(query());
      } catch (error) {
        return Promise.reject(databaseError("read", error));
      }
    }
    return enqueue(() => {
      assertOpen();
      try {
        return query();
      } catch (error) {
        throw databaseError("read", error);
      }
    });
  }

  // Checkpoints copy the WAL into the database file. Left automatic, one runs inside whichever commit
  // crosses 1,000 pages and stalls that request; here they run once a second between transactions.
  let checkpoints: ReturnType<typeof setInterval> | undefined;
  if (!inMemory) {
    writer.exec("PRAGMA wal_autocheckpoint = 0");
    checkpoints = setInterval(() => {
      void enqueue(() => {
        if (closed) return;
        try {
          writer.exec("PRAGMA wal_checkpoint(PASSIVE)");
        } catch {
          // Another process holds the database; the next tick, or its own checkpoints, catch up.
        }
      });
    }, CHECKPOINT_INTERVAL);
    checkpoints.unref();
  }

  return {
    enqueue,
    read,
    readStatement,
    assertOpen,
    async close({ idle }) {
      if (closed) return;
      closed = true;
      clearInterval(checkpoints);
      await idle();
      await tail;
      reader?.close();
      writer.close();
    },
  };
}
