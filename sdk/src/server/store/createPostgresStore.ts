import type pg from "pg";
import type { Hex } from "viem";
import { parseBytes32 } from "../../encoding/parseBytes32.js";
import { StoreError } from "../../errors/StoreError.js";
import { assertUsagePeriod, compareUsageRows, DEFAULT_UNIT_TYPE, UNKNOWN_ROUTE } from "./aggregateUsage.js";
import { databaseError, describe } from "./postgresStoreError.js";
import { createChannelScope } from "./channelScope.js";
import { commitPostgresBatch } from "./commitPostgresBatch.js";
import { createCommitQueue } from "./createCommitQueue.js";
import { createKeyedMutex } from "./createKeyedMutex.js";
import { createReservedChargeKeys } from "./createReservedChargeKeys.js";
import { createStoredChannelIds } from "./createStoredChannelIds.js";
import { postgresBatchSql } from "./postgresBatchSql.js";
import { postgresMigrations } from "./postgresMigrations.js";
import type { ChannelTransaction, SessionStore, UsageRow } from "./SessionStore.js";
import {
  CHANNEL_COLUMNS,
  CHARGE_COLUMNS,
  channelFromRow,
  chargeFromRow,
  chargeStatusSql,
  PAYMENT_COLUMNS,
  paymentFromRow,
  paymentParams,
} from "./sqlRecordCodec.js";

/**
 * The part of a `pg` Pool the store uses (a `pg.Pool` is one), typed structurally so that the SDK's
 * declarations need no `@types/pg`.
 */
export type PostgresPool = {
  connect(): Promise<unknown>;
  query(config: { text: string; values?: unknown[] }): Promise<unknown>;
};

export type CreatePostgresStoreParameters = {
  /**
   * Schema holding the store's tables, created when missing. Default `"tollgate"`. Letters, digits and
   * underscores; tests use a throwaway one per run.
   */
  schema?: string;
} & (
  | {
      /** `postgres://user@host:port/database`; the store opens its own pool and ends it on `close()`. */
      connectionString: string;
      /** Most connections the store's pool opens. Default 10. */
      maxConnections?: number;
      pool?: undefined;
    }
  | {
      /** A `pg.Pool` the caller owns: the store does not end it on `close()`. */
      pool: PostgresPool;
      connectionString?: undefined;
      maxConnections?: undefined;
    }
);

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

// Two-key advisory locks: the first key names the purpose, so channel locks of one schema never meet
// migrations' or another schema's.
const MIGRATION_LOCK = "tollgate.migrate";
// Most withChannel calls sharing one transaction, and most such transactions in flight at once (each
// on its own pooled connection, on disjoint channels).
const MAX_BATCH = 64;
const MAX_RUNNING_BATCHES = 2;
// Reservations remembered to be read with their channel's lock (a few primary-key lookups at most).
const RESERVED_CHANNELS = 4096;
const RESERVED_KEYS_PER_CHANNEL = 8;
// Channels remembered as stored, whose transactions skip the advisory lock (see createStoredChannelIds).
const STORED_CHANNELS = 100_000;

/**
 * `pg` is an optional peer dependency, loaded on first use so that nothing else in the SDK needs it
 * (nor bundles it).
 */
async function loadPg(): Promise<typeof pg> {
  try {
    return (await import("pg")).default;
  } catch (error) {
    throw new StoreError("unavailable", "The PostgreSQL session store needs the pg package: npm install pg", { cause: error });
  }
}

/** FNV-1a, to give each schema its own prepared-statement names on a shared pool (names are capped at 63 bytes). */
function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(36);
}

/** A pooled connection, or `unavailable` when PostgreSQL cannot be reached. */
async function connect(pool: pg.Pool): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (error) {
    throw new StoreError("unavailable", `Cannot connect to PostgreSQL: ${describe(error)}`, { cause: error });
  }
}

async function migrate(pool: pg.Pool, schema: string, S: string): Promise<void> {
  const client = await connect(pool);
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    try {
      // Two instances starting together would otherwise both see version 0 and both create the tables.
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", [MIGRATION_LOCK, schema]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${S}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${S}.schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
      );
      const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${S}.schema_migrations`);
      const applied = new Set(rows.map((row) => row.version));
      const migrations = postgresMigrations(S);
      const known = migrations.at(-1)?.version ?? 0;
      const newest = Math.max(0, ...applied);
      if (newest > known) {
        throw new StoreError("schema", `Schema ${schema} has version ${newest}; this version of tollgate knows up to ${known}`);
      }
      for (const migration of migrations) {
        if (applied.has(migration.version)) continue;
        await client.query(migration.sql);
        await client.query(`INSERT INTO ${S}.schema_migrations (version) VALUES ($1)`, [migration.version]);
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch((rollbackError: Error) => (broken = rollbackError));
      throw databaseError("migration", error);
    }
  } catch (error) {
    throw databaseError("migration", error);
  } finally {
    client.release(broken);
  }
}

/**
 * A `SessionStore` in PostgreSQL through `pg`, shared by any number of server instances. Migrations
 * run on start, under an advisory lock. `withChannel` is one transaction on one pooled connection: it
 * locks the channel's row (`SELECT … FOR UPDATE`), and first, until this instance has seen the channel
 * stored, an advisory lock on its id, so instances creating the same channel queue too. Within one instance, calls on the
 * same channel also queue before taking a connection, so waiting for a busy channel does not drain the
 * pool.
 *
 * A callback holds its connection until it returns: do reads inside it through `tx`, not through this
 * store, or enough concurrent callbacks waiting for a second connection would exhaust the pool.
 * Channel ids are keyed lowercase; usage counts committed charges and settled payments by their `createdAt`.
 */
export async function createPostgresStore(parameters: CreatePostgresStoreParameters): Promise<SessionStore> {
  const schema = parameters.schema ?? "tollgate";
  if (!SCHEMA_NAME.test(schema)) throw new StoreError("misuse", `Invalid schema name ${JSON.stringify(schema)}`);
  const driver = await loadPg();
  const S = driver.escapeIdentifier(schema);

  const ownsPool = parameters.pool === undefined;
  const pool =
    (parameters.pool as pg.Pool | undefined) ?? new driver.Pool({ connectionString: parameters.connectionString, max: parameters.maxConnections ?? 10 });
  // An idle connection that dies (server restart) emits 'error' on the pool, which would crash the
  // process without a listener; the pool drops that connection and opens another when needed.
  if (ownsPool) pool.on("error", () => undefined);

  try {
    await migrate(pool, schema, S);
  } catch (error) {
    if (ownsPool) await pool.end().catch(() => undefined);
    throw error;
  }

  const prefix = `tollgate_${shortHash(schema)}`;
  const channelList = CHANNEL_COLUMNS.join(", ");
  const chargeList = CHARGE_COLUMNS.join(", ");
  const placeholders = (from: number, count: number) => Array.from({ length: count }, (_, i) => `$${from + i}`).join(", ");
  // Named statements are parsed and planned once per connection, then only bound and executed.
  const sql = {
    selectChannel: { name: `${prefix}_select_channel`, text: `SELECT ${channelList} FROM ${S}.channels WHERE channel_id = $1` },
  };
  const batchSql = postgresBatchSql({ S, schema, escapeLiteral: driver.escapeLiteral });

  const mutex = createKeyedMutex();
  const reserved = createReservedChargeKeys({ maxChannels: RESERVED_CHANNELS, maxKeysPerChannel: RESERVED_KEYS_PER_CHANNEL });
  const stored = createStoredChannelIds(STORED_CHANNELS);
  const scope = createChannelScope();
  let closed = false;
  function assertOpen(): void {
    if (closed) throw new StoreError("closed", "The session store is closed");
  }

  async function query<R extends pg.QueryResultRow>(config: pg.QueryConfig | string, values?: unknown[]): Promise<R[]> {
    assertOpen();
    try {
      const result = await pool.query<R>(typeof config === "string" ? { text: config, values } : { ...config, values });
      return result.rows;
    } catch (error) {
      throw databaseError("query", error);
    }
  }

  const commits = createCommitQueue({
    maxBatch: MAX_BATCH,
    maxRunning: MAX_RUNNING_BATCHES,
    async runBatch(calls) {
      assertOpen();
      const client = await connect(pool);
      let broken: Error | undefined;
      try {
        broken = await commitPostgresBatch({ calls, client, sql: batchSql, scope, reserved, stored, isDatabaseError: (error) => error instanceof driver.DatabaseError });
      } finally {
        client.release(broken);
      }
    },
  });

  return {
    async withChannel<T>(rawChannelId: Hex, fn: (tx: ChannelTransaction) => Promise<T>): Promise<T> {
      assertOpen();
      scope.assertOutside();
      const channelId = parseBytes32(rawChannelId);
      const unlock = await mutex.lock(channelId);
      try {
        return await commits.withChannel(channelId, fn);
      } finally {
        unlock();
      }
    },

    async getChannel(channelId) {
      const rows = await query(sql.selectChannel, [parseBytes32(channelId)]);
      return rows[0] && channelFromRow(rows[0]);
    },

    async listChannels(filter = {}) {
      const where: string[] = [];
      const values: (string | number)[] = [];
      if (filter.status !== undefined) (values.push(filter.status), where.push(`status = $${values.length}`));
      if (filter.chainId !== undefined) (values.push(filter.chainId), where.push(`chain_id = $${values.length}`));
      if (filter.escrow !== undefined) (values.push(filter.escrow), where.push(`escrow = $${values.length}`));
      if (filter.token !== undefined) (values.push(filter.token), where.push(`token = $${values.length}`));
      if (filter.payee !== undefined) (values.push(filter.payee), where.push(`payee = $${values.length}`));
      if (filter.payer !== undefined) (values.push(filter.payer), where.push(`payer = $${values.length}`));
      const rows = await query(
        `SELECT ${channelList} FROM ${S}.channels ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at, channel_id`,
        values,
      );
      return rows.map(channelFromRow);
    },

    async listCharges(filter) {
      const values: (string | number)[] = [];
      const where = [`status = ${chargeStatusSql(filter.status)}`];
      if (filter.updatedBefore !== undefined) (values.push(filter.updatedBefore), where.push(`updated_at < $${values.length}`));
      if (filter.channelId !== undefined) (values.push(parseBytes32(filter.channelId)), where.push(`channel_id = $${values.length}`));
      const rows = await query(
        `SELECT ${chargeList} FROM ${S}.charges WHERE ${where.join(" AND ")} ORDER BY updated_at, channel_id, key`,
        values,
      );
      return rows.map(chargeFromRow);
    },

    async usage({ from, to, period, payer }) {
      assertUsagePeriod(period);
      const values: (string | number)[] = [period];
      const where: string[] = [];
      if (from !== undefined) (values.push(from), where.push(`created_at >= $${values.length}`));
      if (to !== undefined) (values.push(to), where.push(`created_at < $${values.length}`));
      if (payer !== undefined) (values.push(payer), where.push(`payer = $${values.length}`));
      const select = (kind: string, table: string, status: string) =>
        `SELECT '${kind}' AS kind, payer, route, unit_type, created_at, amount, units FROM ${S}.${table} WHERE ${[`status = '${status}'`, ...where].join(" AND ")}`;
      // Periods are computed on a timestamp without time zone built from the epoch, so the session's
      // TimeZone setting cannot shift them; SUM over NUMERIC is exact at any size.
      const rows = await query<{ payer: string; route: string; unit_type: string; start: string; amount: string; units: string; charges: number; payments: number }>(
        `SELECT payer, coalesce(route, '${UNKNOWN_ROUTE}') AS route, coalesce(unit_type, '${DEFAULT_UNIT_TYPE}') AS unit_type,
                (extract(epoch FROM date_trunc($1, timestamp 'epoch' + created_at * interval '1 millisecond')) * 1000)::bigint AS start,
                sum(amount)::text AS amount, sum(units)::text AS units,
                (count(*) FILTER (WHERE kind = 'charge'))::integer AS charges, (count(*) FILTER (WHERE kind = 'payment'))::integer AS payments
           FROM (${select("charge", "charges", "committed")} UNION ALL ${select("payment", "payments", "settled")}) AS paid
          GROUP BY 1, 2, 3, 4`,
        values,
      );
      return rows
        .map(
          (row): UsageRow => ({
            payer: row.payer as UsageRow["payer"],
            period: new Date(Number(row.start)).toISOString(),
            route: row.route,
            unitType: row.unit_type,
            amount: BigInt(row.amount),
            units: BigInt(row.units),
            charges: row.charges,
            payments: row.payments,
          }),
        )
        .sort(compareUsageRows);
    },

    async insertPayment(payment) {
      const rows = await query(
        `INSERT INTO ${S}.payments (${PAYMENT_COLUMNS.join(", ")}) VALUES (${placeholders(1, PAYMENT_COLUMNS.length)}) ON CONFLICT (key) DO NOTHING RETURNING key`,
        paymentParams(payment),
      );
      return rows.length === 1;
    },

    async updatePayment(payment) {
      await query(`UPDATE ${S}.payments SET ${PAYMENT_COLUMNS.slice(1).map((column, i) => `${column} = $${i + 2}`).join(", ")} WHERE key = $1`, paymentParams(payment));
    },

    async listPayments({ status, updatedBefore, payer } = {}) {
      const where: string[] = [];
      const values: (string | number)[] = [];
      if (status !== undefined) (values.push(status), where.push(`status = $${values.length}`));
      if (updatedBefore !== undefined) (values.push(updatedBefore), where.push(`updated_at < $${values.length}`));
      if (payer !== undefined) (values.push(payer), where.push(`payer = $${values.length}`));
      const rows = await query(
        `SELECT ${PAYMENT_COLUMNS.join(", ")}, amount::text AS amount, units::text AS units FROM ${S}.payments ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at, key`,
        values,
      );
      return rows.map(paymentFromRow);
    },

    async close() {
      if (closed) return;
      closed = true;
      await mutex.idle();
      if (ownsPool) await pool.end();
    },
  };
}
