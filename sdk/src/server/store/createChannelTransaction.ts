import type { Hex } from "viem";
import { StoreError } from "../../errors/StoreError.js";
import type { ChannelRecord, ChannelTransaction, ChargeRecord } from "./SessionStore.js";
import { validateChannelRecord, validateChargeRecord } from "./validateStoreRecord.js";

export type CreateChannelTransactionParameters = {
  /** Lowercase id of the locked channel. */
  channelId: Hex;
  /** The channel as read under the lock. */
  channel: ChannelRecord | undefined;
  /** Reads a charge of this channel from the store (under the same lock). */
  loadCharge: (key: string) => Promise<ChargeRecord | undefined> | ChargeRecord | undefined;
};

export type ChannelTransactionWrites = { channel: ChannelRecord | undefined; charges: ChargeRecord[] };

export type CreateChannelTransactionReturnType = {
  tx: ChannelTransaction;
  /** Ends the transaction (later calls on `tx` throw) and hands over its buffered writes. */
  finish(): ChannelTransactionWrites;
};

/**
 * The `ChannelTransaction` every store hands to `withChannel` callbacks. Writes are validated and
 * buffered here, then applied by the store in one go once the callback resolves: a callback that
 * throws leaves nothing behind, and on PostgreSQL the writes cost one round trip instead of one each.
 */
export function createChannelTransaction({
  channelId,
  channel,
  loadCharge,
}: CreateChannelTransactionParameters): CreateChannelTransactionReturnType {
  let pendingChannel: ChannelRecord | undefined;
  const pendingCharges = new Map<string, ChargeRecord>();
  let finished = false;

  function assertOpen(): void {
    if (finished) throw new StoreError("misuse", `the withChannel(${channelId}) transaction has ended`);
  }

  const tx: ChannelTransaction = {
    channel,
    async putChannel(record) {
      assertOpen();
      pendingChannel = validateChannelRecord(channelId, record);
    },
    async getCharge(key) {
      assertOpen();
      const pending = pendingCharges.get(key);
      if (pending !== undefined) return { ...pending };
      return loadCharge(key);
    },
    async putCharge(record) {
      assertOpen();
      const charge = validateChargeRecord(channelId, record);
      pendingCharges.set(charge.key, charge);
    },
  };

  return {
    tx,
    finish() {
      finished = true;
      return { channel: pendingChannel, charges: [...pendingCharges.values()] };
    },
  };
}
