import type { Hex } from "viem";
import { applySqliteWrites } from "./applySqliteWrites.js";
import type { ChannelScope } from "./channelScope.js";
import { abortBatch } from "./commitSqliteBatch.js";
import { createChannelTransaction } from "./createChannelTransaction.js";
import type { SqliteRecordCache } from "./createSqliteRecordCache.js";
import type { SqliteStatements } from "./prepareSqliteStatements.js";
import type { ChannelRecord, ChannelTransaction, ChargeRecord } from "./SessionStore.js";
import { channelFromRow, chargeFromRow } from "./sqlRecordCodec.js";
import { databaseError } from "./sqliteStoreError.js";

export type RunSqliteCallParameters = {
  /** Lowercase channel id. */
  channelId: Hex;
  fn: (tx: ChannelTransaction) => Promise<unknown>;
  statements: SqliteStatements;
  cache: SqliteRecordCache;
  scope: ChannelScope;
};

/**
 * One call of a batch, inside the batch's write transaction: reads the channel as the batch left it,
 * runs the callback, and applies its writes under a savepoint, so that writes failing half-way are
 * undone alone. A callback that throws has written nothing (its writes are buffered).
 */
export async function runSqliteCall({ channelId, fn, statements, cache, scope }: RunSqliteCallParameters): Promise<unknown> {
  let transaction;
  let stored: ChannelRecord | undefined;
  const loaded = new Map<string, ChargeRecord>();
  try {
    stored = cache.channel(channelId);
    if (stored === undefined) {
      const row = statements.selectChannel.get(channelId);
      stored = row && channelFromRow(row);
    }
    transaction = createChannelTransaction({
      channelId,
      channel: stored && { ...stored },
      loadCharge(key) {
        try {
          let charge = cache.charge(channelId, key);
          if (charge === undefined) {
            const row = statements.selectCharge.get(channelId, key);
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
    statements.savepoint.run();
  } catch (error) {
    throw databaseError("write", error);
  }
  try {
    applySqliteWrites({ statements, writes, stored, loaded });
    statements.releaseSavepoint.run();
    cache.stage(writes.channel, writes.charges);
  } catch (error) {
    try {
      statements.rollbackToSavepoint.run();
      statements.releaseSavepoint.run();
    } catch (undoError) {
      abortBatch(databaseError("write", undoError));
    }
    throw databaseError("write", error);
  }
  return result;
}
