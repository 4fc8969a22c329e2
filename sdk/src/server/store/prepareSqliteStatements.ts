import type { DatabaseSync } from "node:sqlite";
import { conflictUpdateSet } from "./conflictUpdateSet.js";
import { CHANNEL_COLUMNS, CHARGE_COLUMNS, PAYMENT_COLUMNS } from "./sqlRecordCodec.js";

// The channel columns sqliteMigrations indexes (keep in step), and where the others sit in channelParams.
const INDEXED_CHANNEL_COLUMNS: readonly string[] = ["channel_id", "payer", "payee", "status"];
const UNINDEXED_CHANNEL_COLUMNS = CHANNEL_COLUMNS.filter((column) => !INDEXED_CHANNEL_COLUMNS.includes(column));
export const UNINDEXED_PARAM_INDEXES = UNINDEXED_CHANNEL_COLUMNS.map((column) => CHANNEL_COLUMNS.indexOf(column));

export type PrepareSqliteStatementsParameters = {
  /** The store's write connection: every statement here runs on it. */
  writer: DatabaseSync;
};

/** The writer's statements, prepared once: transaction control, the reads a batch makes, and every write. */
export function prepareSqliteStatements({ writer }: PrepareSqliteStatementsParameters) {
  const channelList = CHANNEL_COLUMNS.join(", ");
  const chargeList = CHARGE_COLUMNS.join(", ");
  const placeholders = (count: number) => Array.from({ length: count }, () => "?").join(", ");

  return {
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
       ON CONFLICT (channel_id) DO UPDATE SET ${conflictUpdateSet({ columns: CHANNEL_COLUMNS, key: ["channel_id"] })}`,
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
       ON CONFLICT (channel_id, key) DO UPDATE SET ${conflictUpdateSet({ columns: CHARGE_COLUMNS, key: ["channel_id", "key"] })}`,
    ),
    // Committing or releasing a reservation changes only these two columns.
    updateChargeStatus: writer.prepare("UPDATE charges SET status = ?, updated_at = ? WHERE channel_id = ? AND key = ?"),
  };
}

export type SqliteStatements = ReturnType<typeof prepareSqliteStatements>;
