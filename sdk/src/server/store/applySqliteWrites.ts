import type { ChannelTransactionWrites } from "./createChannelTransaction.js";
import { type SqliteStatements, UNINDEXED_PARAM_INDEXES } from "./prepareSqliteStatements.js";
import type { ChannelRecord, ChargeRecord } from "./SessionStore.js";
import { channelParams, chargeParams, type SqlValue } from "./sqlRecordCodec.js";

export type ApplySqliteWritesParameters = {
  statements: SqliteStatements;
  /** One call's buffered writes. */
  writes: ChannelTransactionWrites;
  /** The channel as stored before the call. */
  stored: ChannelRecord | undefined;
  /** The charges the call read, as stored before it. */
  loaded: Map<string, ChargeRecord>;
};

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

/**
 * Writes one call's records inside the open transaction, each with the cheapest statement that stores
 * it: a channel whose indexed columns are as stored leaves them out, and a charge that changed only its
 * status and time updates just those two.
 */
export function applySqliteWrites({ statements, writes: { channel, charges }, stored, loaded }: ApplySqliteWritesParameters): void {
  if (channel !== undefined) {
    const indexedUnchanged =
      stored !== undefined && stored.payer === channel.payer && stored.payee === channel.payee && stored.status === channel.status;
    if (indexedUnchanged) {
      const params = channelParams(channel);
      statements.updateChannelUnindexed.run(channel.channelId, ...UNINDEXED_PARAM_INDEXES.map((index) => params[index] as SqlValue));
    } else {
      statements.upsertChannel.run(...channelParams(channel));
    }
  }
  for (const charge of charges) {
    const before = loaded.get(charge.key);
    if (before !== undefined && onlyStatusChanged(before, charge)) statements.updateChargeStatus.run(charge.status, charge.updatedAt, charge.channelId, charge.key);
    else statements.upsertCharge.run(...chargeParams(charge));
  }
}
