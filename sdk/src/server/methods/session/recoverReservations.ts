import { finishCharge } from "../../accounting.js";
import type { ChannelRecord, ChargeRecord, SessionStore } from "../../store/SessionStore.js";

export type RecoverReservationsParameters = {
  store: SessionStore;
  now: () => number;
  publish: (channel: ChannelRecord) => void;
  /** Milliseconds: only reservations older than this are released (other instances' requests in flight keep theirs). */
  olderThan?: number;
};

/**
 * Releases reservations that requests left behind when the process died between admitting them and
 * finishing them (their responses never left: a charge is committed before its response is sent).
 */
export async function recoverReservations({ store, now, publish, olderThan = 0 }: RecoverReservationsParameters): Promise<ChargeRecord[]> {
  const stale = await store.listCharges({ status: "reserved", updatedBefore: now() - olderThan + 1 });
  const released: ChargeRecord[] = [];
  for (const charge of stale) {
    const channel = await store.withChannel(charge.channelId, async (tx) => {
      if (!tx.channel) return undefined;
      // finishCharge re-reads the charge under the lock: one finished meanwhile is left alone.
      const updated = await finishCharge(tx, tx.channel, charge.key, "released", now());
      if (updated === tx.channel) return undefined;
      await tx.putChannel(updated);
      return updated;
    });
    if (channel) {
      released.push({ ...charge, status: "released" });
      publish(channel);
    }
  }
  return released;
}
