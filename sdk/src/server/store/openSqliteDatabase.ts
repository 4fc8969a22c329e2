import type { DatabaseSync } from "node:sqlite";
import { StoreError } from "../../errors/StoreError.js";
import type { CreateSqliteStoreParameters } from "./createSqliteStore.js";
import { sqliteMigrations } from "./sqliteMigrations.js";
import { databaseError } from "./sqliteStoreError.js";

export type OpenSqliteDatabaseParameters = {
  /** `node:sqlite`'s class, as `loadSqlite` loaded it. */
  DatabaseSync: typeof DatabaseSync;
  path: string;
  /** Whether `path` names a private in-memory database rather than a file. */
  inMemory: boolean;
  busyTimeout: number;
  synchronous: NonNullable<CreateSqliteStoreParameters["synchronous"]>;
};

export type SqliteDatabase = {
  /** The connection every write goes through; after opening it never waits for a lock. */
  writer: DatabaseSync;
  /** A read-only connection to the same file; undefined in memory, where the writer serves reads too. */
  reader: DatabaseSync | undefined;
};

/** Runs the migrations this file's version does not have yet, in one transaction, under the write lock. */
function migrate(db: DatabaseSync): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL)");
    const applied = new Set(db.prepare("SELECT version FROM schema_migrations").all().map((row) => Number(row.version)));
    const known = sqliteMigrations.at(-1)?.version ?? 0;
    const newest = Math.max(0, ...applied);
    if (newest > known) {
      throw new StoreError("schema", `The database has schema version ${newest}; this version of tollgate knows up to ${known}`);
    }
    const record = db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
    for (const migration of sqliteMigrations) {
      if (applied.has(migration.version)) continue;
      db.exec(migration.sql);
      record.run(migration.version, Date.now());
    }
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

/**
 * Opens the store's connections: the writer in WAL mode, migrated, then set never to block; and, on a
 * file, a read-only reader. Fails with `unavailable` when the file cannot be opened, and closes the
 * writer again when anything after that fails.
 */
export function openSqliteDatabase({ DatabaseSync, path, inMemory, busyTimeout, synchronous }: OpenSqliteDatabaseParameters): SqliteDatabase {
  let writer: DatabaseSync;
  let reader: DatabaseSync | undefined;
  try {
    writer = new DatabaseSync(path);
  } catch (error) {
    throw new StoreError("unavailable", `Cannot open SQLite database ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    // Opening may wait for another process (switching to WAL, migrating): block here, at start-up.
    writer.exec(`PRAGMA busy_timeout = ${busyTimeout}`);
    writer.exec("PRAGMA journal_mode = WAL");
    // WAL + NORMAL: COMMIT appends to the WAL with write() and returns; a process crash or kill -9
    // after that loses nothing (the OS holds the data), and one before it leaves an incomplete WAL
    // tail that the next open ignores. Only an OS crash or power cut can lose the latest commits.
    writer.exec(`PRAGMA synchronous = ${synchronous === "full" ? "FULL" : "NORMAL"}`);
    migrate(writer);
    // From here on the writer never blocks the event loop: BEGIN IMMEDIATE fails at once when another
    // process holds the lock and withChannel retries on a timer. Once the lock is held, WAL commits do
    // not wait for anything else.
    writer.exec("PRAGMA busy_timeout = 0");
    if (!inMemory) {
      // A ":memory:" database is private to its connection, so there the writer serves reads too.
      reader = new DatabaseSync(path, { readOnly: true });
      reader.exec(`PRAGMA busy_timeout = ${busyTimeout}`);
    }
  } catch (error) {
    writer.close();
    throw databaseError("open", error);
  }
  return { writer, reader };
}
