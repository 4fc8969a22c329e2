import type { Hex } from "viem";
import { parseBytes32 } from "../../encoding/parseBytes32.js";
import { StoreError } from "../../errors/StoreError.js";
import { createChannelScope } from "./channelScope.js";
import { createSqliteConnections } from "./createSqliteConnections.js";
import { createSqlitePayments } from "./createSqlitePayments.js";
import { createSqliteRecordCache } from "./createSqliteRecordCache.js";
import { createSqliteTransactions } from "./createSqliteTransactions.js";
import { loadSqlite } from "./loadSqlite.js";
import { openSqliteDatabase } from "./openSqliteDatabase.js";
import { prepareSqliteStatements } from "./prepareSqliteStatements.js";
import { querySqliteUsage } from "./querySqliteUsage.js";
import type { ChannelTransaction, SessionStore } from "./SessionStore.js";
import { CHANNEL_COLUMNS, CHARGE_COLUMNS, channelFromRow, chargeFromRow, chargeStatusSql } from "./sqlRecordCodec.js";

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
export function createSqliteStore({ path, busyTimeout = 5000, synchronous = "normal" }: CreateSqliteStoreParameters): SessionStore {
  const { DatabaseSync } = loadSqlite();
  if (!Number.isSafeInteger(busyTimeout) || busyTimeout < 0) throw new StoreError("misuse", "busyTimeout must be a non-negative integer");
  const inMemory = path === ":memory:" || path === "";
  const { writer, reader } = openSqliteDatabase({ DatabaseSync, path, inMemory, busyTimeout, synchronous });

  const channelList = CHANNEL_COLUMNS.join(", ");
  const chargeList = CHARGE_COLUMNS.join(", ");
  const statements = prepareSqliteStatements({ writer });
  const cache = createSqliteRecordCache({ dataVersion: () => Number(statements.dataVersion.get()!.data_version) });
  const connections = createSqliteConnections({ writer, reader, inMemory });
  const { read, readStatement, assertOpen } = connections;
  const scope = createChannelScope();
  const transactions = createSqliteTransactions({ path, busyTimeout, statements, cache, connections, scope });

  return {
    ...createSqlitePayments({ statements, transactions, connections }),

    withChannel<T>(rawChannelId: Hex, fn: (tx: ChannelTransaction) => Promise<T>): Promise<T> {
      try {
        assertOpen();
        scope.assertOutside();
        const channelId = parseBytes32(rawChannelId);
        return transactions.commits.withChannel(channelId, fn);
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
      const where = [`status = ${chargeStatusSql(query.status)}`];
      const params: (string | number)[] = [];
      if (query.updatedBefore !== undefined) (where.push("updated_at < ?"), params.push(query.updatedBefore));
      if (query.channelId !== undefined) (where.push("channel_id = ?"), params.push(parseBytes32(query.channelId)));
      const sql = `SELECT ${chargeList} FROM charges WHERE ${where.join(" AND ")} ORDER BY updated_at, channel_id, key`;
      return read(() => readStatement(sql).all(...params).map(chargeFromRow));
    },

    usage: (query) => querySqliteUsage({ connections, query }),

    close: () => connections.close({ idle: () => transactions.commits.idle() }),
  };
}
