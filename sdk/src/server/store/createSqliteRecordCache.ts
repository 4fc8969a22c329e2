import type { Hex } from "viem";
import type { ChannelRecord, ChargeRecord } from "./SessionStore.js";
import { storedChannel, storedCharge } from "./sqlRecordCodec.js";

// Past this many entries a map is emptied: a cache miss only costs a read.
const MAX_ENTRIES = 50_000;

export type CreateSqliteRecordCacheParameters = {
  /**
   * `PRAGMA data_version` of the writer connection: it changes when another connection (another
   * process, another store on the same file) committed, never on this connection's own commits.
   */
  dataVersion(): number;
};

export type SqliteRecordCache = {
  /** At the start of a batch, holding the write lock: forgets everything if another connection committed since the last batch. */
  begin(): void;
  /** The channel as this batch sees it, or undefined when it must be read from the database. */
  channel(channelId: Hex): ChannelRecord | undefined;
  /** A reserved charge as this batch sees it, or undefined when it must be read from the database. */
  charge(channelId: Hex, key: string): ChargeRecord | undefined;
  /** Records one call's writes, once they are applied inside the batch's transaction. */
  stage(channel: ChannelRecord | undefined, charges: ChargeRecord[]): void;
  /** The batch committed: its writes are what the database holds. */
  commit(): void;
  /** The batch rolled back (or could not commit): nothing is trusted any more. */
  rollback(): void;
};

/**
 * What this connection last committed to the channels and charges it wrote: every paid request reads
 * its channel twice (admission, then commit) and its reservation once, and these copies spare the
 * reads and their decoding. Only records this connection wrote are kept (channels, and charges while
 * reserved), and they are trusted only while no other connection has committed (`data_version`,
 * checked under the write lock), so a batch sees exactly what a read would return. Records handed
 * out are copies.
 */
export function createSqliteRecordCache({ dataVersion }: CreateSqliteRecordCacheParameters): SqliteRecordCache {
  const channels = new Map<Hex, ChannelRecord>();
  const charges = new Map<string, ChargeRecord>();
  // Writes of the batch in flight; a charge staged as null left the reserved state (read it from the database).
  const stagedChannels = new Map<Hex, ChannelRecord>();
  const stagedCharges = new Map<string, ChargeRecord | null>();
  let version: number | undefined;

  const chargeKey = (channelId: Hex, key: string) => `${channelId}\n${key}`;
  function clear(): void {
    channels.clear();
    charges.clear();
    stagedChannels.clear();
    stagedCharges.clear();
  }

  return {
    begin() {
      stagedChannels.clear();
      stagedCharges.clear();
      const current = dataVersion();
      if (current !== version) {
        clear();
        version = current;
      }
    },
    channel(channelId) {
      const record = stagedChannels.get(channelId) ?? channels.get(channelId);
      return record && { ...record };
    },
    charge(channelId, key) {
      const id = chargeKey(channelId, key);
      const staged = stagedCharges.get(id);
      const record = staged === undefined ? charges.get(id) : staged;
      return record ? { ...record } : undefined;
    },
    stage(channel, written) {
      if (channel !== undefined) stagedChannels.set(channel.channelId, storedChannel(channel));
      for (const charge of written) stagedCharges.set(chargeKey(charge.channelId, charge.key), charge.status === "reserved" ? storedCharge(charge) : null);
    },
    commit() {
      if (channels.size + stagedChannels.size > MAX_ENTRIES) channels.clear();
      for (const [id, record] of stagedChannels) channels.set(id, record);
      if (charges.size + stagedCharges.size > MAX_ENTRIES) charges.clear();
      for (const [id, record] of stagedCharges) {
        if (record === null) charges.delete(id);
        else charges.set(id, record);
      }
      stagedChannels.clear();
      stagedCharges.clear();
    },
    rollback() {
      clear();
      version = undefined;
    },
  };
}
