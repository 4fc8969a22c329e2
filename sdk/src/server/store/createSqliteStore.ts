import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Hex } from "viem";
import { parseBytes32 } from "../../encoding/parseBytes32.js";
import { StoreError } from "../../errors/StoreError.js";
import { aggregateUsage, type UsageEntry } from "./aggregateUsage.js";
import { createChannelScope } from "./channelScope.js";
import { createChannelTransaction, type ChannelTransactionWrites } from "./createChannelTransaction.js";
import { abortBatch, commitSqliteBatch } from "./commitSqliteBatch.js";
import { createCommitQueue } from "./createCommitQueue.js";
import { createSqliteRecordCache } from "./createSqliteRecordCache.js";
import type { ChannelRecord, ChannelTransaction, ChargeRecord, SessionStore } from "./SessionStore.js";
import {
  CHANNEL_COLUMNS,
  CHARGE_COLUMNS,
  PAYMENT_COLUMNS,
  channelFromRow,
  channelParams,
  chargeFromRow,
  chargeParams,
  paymentFromRow,
  paymentParams,
  type SqlValue,
} from "./sqlRecordCodec.js";
import { sqliteMigrations } from "./sqliteMigrations.js";

export type CreateSqliteStoreParameters = {
  /** Database file, created when missing (its directory must exist); `":memory:"` for a private in-memory database. */
  path: string;
  /**
   * How long `withChannel` waits for the database while another process holds its write lock before
   * failing with a `busy` StoreError. Default 5000 ms.
   */
  busyTimeout?: number;
  /**
   * `"normal"` (default) survives the process crashing or being killed at any instant: a committed
   * transaction is in the WAL file and reopening replays it. An OS crash or power loss may lose the last
   * transactions (never corrupt the file). `"full"` also survives those, at an fsync per commit.
   */
  synchronous?: "normal" | "full";
};

const SQLITE_BUSY = 5;
// The channel columns sqliteMigrations indexes (keep in step), and where the others sit in channelParams.
const INDEXED_CHANNEL_COLUMNS: readonly string[] = ["channel_id", "payer", "payee", "status"];
const UNINDEXED_CHANNEL_COLUMNS = CHANNEL_COLUMNS.filter((column) => !INDEXED_CHANNEL_COLUMNS.includes(column));
const UNINDEXED_PARAM_INDEXES = UNINDEXED_CHANNEL_COLUMNS.map((column) => CHANNEL_COLUMNS.indexOf(column));
const MAX_BACKOFF_MS = 25;
// Most withChannel calls sharing one write transaction (and one WAL append).
const MAX_BATCH = 64;

let sqliteModule: typeof import("node:sqlite") | undefined;

/**
 * Loads `node:sqlite` on first use, so that importing the SDK works on runtimes without it. Node 22
 * prints an ExperimentalWarning when the module loads; choosing this store is not opting into an
 * experiment, so exactly that warning is dropped while the module loads. Any other warning, then or
 * later, goes through untouched.
 */
function loadSqlite(): typeof import("node:sqlite") {
  if (sqliteModule !== undefined) return sqliteModule;
  const proc = globalThis.process;
  if (typeof proc?.getBuiltinModule !== "function") {
    throw new StoreError("unavailable", "The SQLite session store needs Node.js 22.13 or later (node:sqlite)");
  }
  const emitWarning = proc.emitWarning;
  proc.emitWarning = function filterSqliteWarning(this: unknown, warning: string | Error, ...rest: unknown[]) {
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: unknown } | undefined)?.type;
    const message = typeof warning === "string" ? warning : warning?.message;
    const isSqliteExperimental =
      (type === "ExperimentalWarning" || (warning instanceof Error && warning.name === "ExperimentalWarning")) &&
      typeof message === "string" &&
      message.startsWith("SQLite is an experimental feature");
    if (isSqliteExperimental) return;
    return (emitWarning as (...args: unknown[]) => void).call(proc, warning, ...rest);
  } as typeof proc.emitWarning;
  try {
    sqliteModule = proc.getBuiltinModule("node:sqlite") as typeof import("node:sqlite") | undefined;
  } catch (error) {
    throw new StoreError("unavailable", "node:sqlite failed to load", { cause: error });
  } finally {
    proc.emitWarning = emitWarning;
  }
  if (sqliteModule === undefined) {
    throw new StoreError("unavailable", "The SQLite session store needs Node.js 22.13 or later (node:sqlite)");
  }
  return sqliteModule;
}

function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === "number" && (code & 0xff) === SQLITE_BUSY;
}

function databaseError(what: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  return new StoreError("database", `SQLite ${what} failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

/** Whether `after` differs from `before`, the same charge as stored, in its status and time only. */
function onlyStatusChanged(before: ChargeRecord, after: ChargeRecord): boolean {
  return (
    before.payer === after.payer &&
    before.amount === after.amount &&
    before.units === after.units &&
    before.fingerprint === after.fingerprint &&
    (before.route ?? null) === (after.route ?? null) &&
    (before.unitType ?? null) === (after.unitType ?? null) &&
    before.createdAt === after.createdAt
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

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
 * A `SessionStore` in one SQLite file, through Node's built-in `node:sqlite` (Node 22.13 or later).
 * Several processes may share the file: `withChannel` takes the database write lock (`BEGIN
 * IMMEDIATE`), so transactions on any channel run one at a time across them all. Hold it briefly: a
 * callback that awaits slow I/O stalls every other channel too. Reads go through a second connection
 * and see the last committed state, never a transaction in flight.
 *
 * The database is in WAL mode with `synchronous = NORMAL` by default: a committed `withChannel`
 * survives the process being killed at any moment (see `synchronous` for power loss). Migrations run
 * on open. Channel ids are keyed lowercase; usage counts committed charges and settled payments by their
 * `createdAt`.
 */
const CHECKPOINT_INTERVAL = 1_000;

export function createSqliteStore({ path, busyTimeout = 5000, synchronous = "normal" }: CreateSqliteStoreParameters): SessionStore {
  const { DatabaseSync } = loadSqlite();
  if (!Number.isSafeInteger(busyTimeout) || busyTimeout < 0) throw new StoreError("misuse", "busyTimeout must be a non-negative integer");
  const inMemory = path === ":memory:" || path === "";

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

  const channelList = CHANNEL_COLUMNS.join(", ");
  const chargeList = CHARGE_COLUMNS.join(", ");
  const placeholders = (count: number) => Array.from({ length: count }, () => "?").join(", ");
  const updateAll = (columns: readonly string[], key: readonly string[]) =>
    columns
      .filter((column) => !key.includes(column))
      .map((column) => `${column} = excluded.${column}`)
      .join(", ");

  const tx = {
    begin: writer.prepare("BEGIN IMMEDIATE"),
    commit: writer.prepare("COMMIT"),
    rollback: writer.prepare("ROLLBACK"),
    savepoint: writer.prepare("SAVEPOINT call"),
    releaseSavepoint: writer.prepare("RELEASE call"),
    rollbackToSavepoint: writer.prepare("ROLLBACK TO call"),
    selectChannel: writer.prepare(`SELECT ${channelList} FROM channels WHERE channel_id = ?`),
    selectCharge: writer.prepare(`SELECT ${chargeList} FROM charges WHERE channel_id = ? AND key = ?`),
    dataVersion: writer.prepare("PRAGMA data_version"),
    upsertChannel: writer.prepare(
      `INSERT INTO channels (${channelList}) VALUES (${placeholders(CHANNEL_COLUMNS.length)})
       ON CONFLICT (channel_id) DO UPDATE SET ${updateAll(CHANNEL_COLUMNS, ["channel_id"])}`,
    ),
    // SQLite rewrites an index entry whenever its column is assigned, even to the same value; most
    // writes change only amounts and times, so they skip the three indexed columns (~2x cheaper).
    updateChannelUnindexed: writer.prepare(
      `UPDATE channels SET ${UNINDEXED_CHANNEL_COLUMNS.map((column, i) => `${column} = ?${i + 2}`).join(", ")} WHERE channel_id = ?1`,
    ),
    insertPayment: writer.prepare(
      `INSERT INTO payments (${PAYMENT_COLUMNS.join(", ")}) VALUES (${placeholders(PAYMENT_COLUMNS.length)}) ON CONFLICT (key) DO NOTHING`,
    ),
    updatePayment: writer.prepare(
      `UPDATE payments SET ${PAYMENT_COLUMNS.slice(1).map((column, i) => `${column} = ?${i + 2}`).join(", ")} WHERE key = ?1`,
    ),
    upsertCharge: writer.prepare(
      `INSERT INTO charges (${chargeList}) VALUES (${placeholders(CHARGE_COLUMNS.length)})
       ON CONFLICT (channel_id, key) DO UPDATE SET ${updateAll(CHARGE_COLUMNS, ["channel_id", "key"])}`,
    ),
    // Committing or releasing a reservation changes only these two columns.
    updateChargeStatus: writer.prepare("UPDATE charges SET status = ?, updated_at = ? WHERE channel_id = ? AND key = ?"),
  };
  const cache = createSqliteRecordCache({ dataVersion: () => Number(tx.dataVersion.get()!.data_version) });
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

  const scope = createChannelScope();
  let closed = false;
  function assertOpen(): void {
    if (closed) throw new StoreError("closed", "The session store is closed");
  }

  function rollback(): void {
    cache.rollback();
    try {
      tx.rollback.run();
    } catch {
      // No transaction left to roll back (SQLite ends some on error by itself).
    }
  }

  async function beginImmediate(): Promise<void> {
    const deadline = Date.now() + busyTimeout;
    for (let delay = 1; ; delay = Math.min(delay * 2, MAX_BACKOFF_MS)) {
      try {
        tx.begin.run();
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

  /** `loaded`: the charges the call read, as stored before it. */
  function apply({ channel, charges }: ChannelTransactionWrites, stored: ChannelRecord | undefined, loaded: Map<string, ChargeRecord>): void {
    if (channel !== undefined) {
      const indexedUnchanged =
        stored !== undefined && stored.payer === channel.payer && stored.payee === channel.payee && stored.status === channel.status;
      if (indexedUnchanged) {
        const params = channelParams(channel);
        tx.updateChannelUnindexed.run(channel.channelId, ...UNINDEXED_PARAM_INDEXES.map((index) => params[index] as SqlValue));
      } else {
        tx.upsertChannel.run(...channelParams(channel));
      }
    }
    for (const charge of charges) {
      const before = loaded.get(charge.key);
      if (before !== undefined && onlyStatusChanged(before, charge)) tx.updateChargeStatus.run(charge.status, charge.updatedAt, charge.channelId, charge.key);
      else tx.upsertCharge.run(...chargeParams(charge));
    }
  }

  /**
   * One call of a batch, inside the batch's write transaction: reads the channel as the batch left it,
   * runs the callback, and applies its writes under a savepoint, so that writes failing half-way are
   * undone alone. A callback that throws has written nothing (its writes are buffered).
   */
  async function runCall(channelId: Hex, fn: (tx: ChannelTransaction) => Promise<unknown>): Promise<unknown> {
    let transaction;
    let stored: ChannelRecord | undefined;
    const loaded = new Map<string, ChargeRecord>();
    try {
      stored = cache.channel(channelId);
      if (stored === undefined) {
        const row = tx.selectChannel.get(channelId);
        stored = row && channelFromRow(row);
      }
      transaction = createChannelTransaction({
        channelId,
        channel: stored && { ...stored },
        loadCharge(key) {
          try {
            let charge = cache.charge(channelId, key);
            if (charge === undefined) {
              const row = tx.selectCharge.get(channelId, key);
              charge = row && chargeFromRow(row);
            }
            if (charge !== undefined) loaded.set(key, { ...charge });
            return charge;
          } catch (error) {
            throw databaseError("read", error);
          }
        },
      });
    } catch (error) {
      throw databaseError("read", error);
    }

    let result: unknown;
    try {
      result = await scope.run(() => fn(transaction.tx));
    } catch (error) {
      transaction.finish();
      throw error;
    }
    const writes = transaction.finish();
    if (writes.channel === undefined && writes.charges.length === 0) return result;
    try {
      tx.savepoint.run();
    } catch (error) {
      throw databaseError("write", error);
    }
    try {
      apply(writes, stored, loaded);
      tx.releaseSavepoint.run();
      cache.stage(writes.channel, writes.charges);
    } catch (error) {
      try {
        tx.rollbackToSavepoint.run();
        tx.releaseSavepoint.run();
      } catch (undoError) {
        abortBatch(databaseError("write", undoError));
      }
      throw databaseError("write", error);
    }
    return result;
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
          run: runCall,
          commit: () => {
            try {
              tx.commit.run();
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

  /** One statement in its own write transaction, queued behind this process's transactions. */
  function writeOnce<T>(statement: () => T): Promise<T> {
    return enqueue(async () => {
      assertOpen();
      await beginImmediate();
      try {
        const result = statement();
        tx.commit.run();
        return result;
      } catch (error) {
        rollback();
        throw databaseError("write", error);
      }
    });
  }

  return {
    insertPayment: (payment) => writeOnce(() => tx.insertPayment.run(...paymentParams(payment)).changes === 1),
    updatePayment: (payment) => writeOnce(() => void tx.updatePayment.run(...paymentParams(payment))),
    async listPayments({ status, updatedBefore, payer } = {}) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (status !== undefined) (where.push("status = ?"), params.push(status));
      if (updatedBefore !== undefined) (where.push("updated_at < ?"), params.push(updatedBefore));
      if (payer !== undefined) (where.push("payer = ?"), params.push(payer));
      const sql = `SELECT ${PAYMENT_COLUMNS.join(", ")} FROM payments ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at, key`;
      return read(() => readStatement(sql).all(...params).map(paymentFromRow));
    },

    withChannel<T>(rawChannelId: Hex, fn: (tx: ChannelTransaction) => Promise<T>): Promise<T> {
      try {
        assertOpen();
        scope.assertOutside();
        const channelId = parseBytes32(rawChannelId);
        return commits.withChannel(channelId, fn);
      } catch (error) {
        return Promise.reject(error);
      }
    },

    async getChannel(channelId) {
      const id = parseBytes32(channelId);
      return read(() => {
        const row = readStatement(`SELECT ${channelList} FROM channels WHERE channel_id = ?`).get(id);
        return row && channelFromRow(row);
      });
    },

    async listChannels(query = {}) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (query.status !== undefined) (where.push("status = ?"), params.push(query.status));
      if (query.chainId !== undefined) (where.push("chain_id = ?"), params.push(query.chainId));
      if (query.escrow !== undefined) (where.push("escrow = ?"), params.push(query.escrow));
      if (query.token !== undefined) (where.push("token = ?"), params.push(query.token));
      if (query.payee !== undefined) (where.push("payee = ?"), params.push(query.payee));
      if (query.payer !== undefined) (where.push("payer = ?"), params.push(query.payer));
      const sql = `SELECT ${channelList} FROM channels ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
        ORDER BY created_at, channel_id`;
      return read(() => readStatement(sql).all(...params).map(channelFromRow));
    },

    async listCharges(query) {
      const where = ["status = ?"];
      const params: (string | number)[] = [query.status];
      if (query.updatedBefore !== undefined) (where.push("updated_at < ?"), params.push(query.updatedBefore));
      if (query.channelId !== undefined) (where.push("channel_id = ?"), params.push(parseBytes32(query.channelId)));
      const sql = `SELECT ${chargeList} FROM charges WHERE ${where.join(" AND ")} ORDER BY updated_at, channel_id, key`;
      return read(() => readStatement(sql).all(...params).map(chargeFromRow));
    },

    async usage({ from, to, period, payer }) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (from !== undefined) (where.push("created_at >= ?"), params.push(from));
      if (to !== undefined) (where.push("created_at < ?"), params.push(to));
      if (payer !== undefined) (where.push("payer = ?"), params.push(payer));
      const select = (kind: UsageEntry["kind"], table: string, status: string) =>
        `SELECT '${kind}' AS kind, payer, created_at, amount, units, route, unit_type FROM ${table} WHERE ${["status = '" + status + "'", ...where].join(" AND ")}`;
      const sql = `${select("charge", "charges", "committed")} UNION ALL ${select("payment", "payments", "settled")}`;
      return read(() => {
        function* rows(): Generator<UsageEntry> {
          for (const row of readStatement(sql).iterate(...params, ...params)) {
            yield {
              kind: row.kind as UsageEntry["kind"],
              payer: row.payer as ChargeRecord["payer"],
              createdAt: Number(row.created_at),
              amount: BigInt(row.amount as string),
              units: BigInt(row.units as string),
              route: row.route as string | null,
              unitType: row.unit_type as string | null,
            };
          }
        }
        return aggregateUsage(rows(), period);
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(checkpoints);
      await commits.idle();
      await tail;
      reader?.close();
      writer.close();
    },
  };
}

