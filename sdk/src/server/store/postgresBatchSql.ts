import type { Hex } from "viem";
import { conflictUpdateSet } from "./conflictUpdateSet.js";
import type { ChannelTransactionWrites } from "./createChannelTransaction.js";
import { CHANNEL_COLUMNS, CHARGE_COLUMNS, channelParams, chargeParams, type SqlValue } from "./sqlRecordCodec.js";

export type BeginAndLockOptions = {
  /** The channels that need the advisory lock (see createStoredChannelIds); all of them by default. */
  unstored?: readonly Hex[];
  /** Charges to read under the locks. */
  charges?: readonly { channelId: Hex; key: string }[];
};

/** The statements opening a batch, and the indexes of the rows' and the charges' results among theirs. */
export type BeginAndLock = { text: string; rowsAt: number; chargesAt?: number };

export type PostgresBatchSqlParameters = {
  /** The quoted schema name. */
  S: string;
  schema: string;
  /** The driver's `escapeLiteral`. */
  escapeLiteral(value: string): string;
};

/**
 * The SQL of a PostgreSQL group commit, as simple-protocol text: several statements travel in one
 * round trip only without parameters, so values are inlined as literals. Channel ids are safe to
 * inline bare (`parseBytes32` let through only "0x" and 64 lowercase hex digits); every other value
 * is a validated record's, quoted by the driver's `escapeLiteral`. Columns come from the codec, so
 * new ones need nothing here.
 */
export function postgresBatchSql({ S, schema, escapeLiteral }: PostgresBatchSqlParameters) {
  const literal = (value: SqlValue) => (value === null ? "NULL" : typeof value === "number" ? String(value) : escapeLiteral(value));
  const row = (values: SqlValue[]) => `(${values.map(literal).join(", ")})`;
  const channelUpdate = conflictUpdateSet({ columns: CHANNEL_COLUMNS, key: ["channel_id"] });
  const chargeUpdate = conflictUpdateSet({ columns: CHARGE_COLUMNS, key: ["channel_id", "key"] });
  const schemaKey = `hashtext(${escapeLiteral(schema)})`;
  /** The statement taking the advisory locks of `channelIds`, or "" when there are none. */
  const advisoryLocks = (channelIds: readonly Hex[]) => {
    if (channelIds.length === 0) return "";
    const ids = channelIds.map((id) => `'${id}'`).join(", ");
    // One id needs no order (nor the planning of one).
    return channelIds.length === 1
      ? `\n        SELECT pg_advisory_xact_lock(${schemaKey}, hashtext(${ids}));`
      : `\n        SELECT count(pg_advisory_xact_lock(${schemaKey}, key)) FROM (SELECT DISTINCT hashtext(id) AS key FROM unnest(ARRAY[${ids}]::text[]) AS id ORDER BY key) AS keys;`;
  };

  return {
    /**
     * Opens the transaction and locks the batch's channels: first the advisory lock (the one a lone
     * creator of a channel takes) of each id in `unstored`, the channels that may not be stored yet, in
     * one global order so that batches of several instances cannot deadlock, then the stored rows, then,
     * when `charges` names some, those charges (read under the locks: each statement reads what committed
     * before it started). Returns the text and where its results are: BEGIN[, the locks], the rows[, the
     * charges].
     */
    beginAndLock(channelIds: readonly Hex[], { unstored = channelIds, charges = [] }: BeginAndLockOptions = {}): BeginAndLock {
      const ids = channelIds.map((id) => `'${id}'`).join(", ");
      const locks = advisoryLocks(unstored);
      const rowsAt = locks === "" ? 1 : 2;
      const lock = `BEGIN;${locks}
        SELECT ${CHANNEL_COLUMNS.join(", ")} FROM ${S}.channels WHERE channel_id IN (${ids}) ORDER BY channel_id FOR UPDATE`;
      if (charges.length === 0) return { text: lock, rowsAt };
      const keys = charges.map(({ channelId, key }) => `('${channelId}', ${escapeLiteral(key)})`).join(", ");
      return {
        text: `${lock};
        SELECT ${CHARGE_COLUMNS.join(", ")} FROM ${S}.charges WHERE (channel_id, key) IN (${keys})`,
        rowsAt,
        chargesAt: rowsAt + 1,
      };
    },
    /** Charges by (channel, key), any number in one statement: $1 the channel ids, $2 the keys. */
    selectCharges: `SELECT ${CHARGE_COLUMNS.join(", ")} FROM ${S}.charges WHERE (channel_id, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    /** The statements writing `writes` (one multi-row upsert per table), or "" when there is nothing to write. */
    writes(writes: readonly ChannelTransactionWrites[]): string {
      const channels = writes.flatMap(({ channel }) => (channel === undefined ? [] : [row(channelParams(channel))]));
      const charges = writes.flatMap(({ charges }) => charges.map((charge) => row(chargeParams(charge))));
      const statements = [];
      if (channels.length > 0) {
        statements.push(`INSERT INTO ${S}.channels (${CHANNEL_COLUMNS.join(", ")}) VALUES ${channels.join(", ")} ON CONFLICT (channel_id) DO UPDATE SET ${channelUpdate}`);
      }
      if (charges.length > 0) {
        statements.push(`INSERT INTO ${S}.charges (${CHARGE_COLUMNS.join(", ")}) VALUES ${charges.join(", ")} ON CONFLICT (channel_id, key) DO UPDATE SET ${chargeUpdate}`);
      }
      return statements.join(";\n");
    },
  };
}

export type PostgresBatchSql = ReturnType<typeof postgresBatchSql>;
