import type { Hex } from "viem";
import { parseBytes32 } from "../../encoding/parseBytes32.js";
import { StoreError } from "../../errors/StoreError.js";
import { aggregateUsage } from "./aggregateUsage.js";
import { createChannelScope } from "./channelScope.js";
import { createChannelTransaction } from "./createChannelTransaction.js";
import { createKeyedMutex } from "./createKeyedMutex.js";
import { type ChannelRecord, type ChannelTransaction, type ChargeRecord, type PaymentRecord, paymentKey, type SessionStore } from "./SessionStore.js";

/**
 * A `SessionStore` in process memory, for tests and demos: nothing survives a restart and nothing is
 * shared between processes. It behaves like the durable stores otherwise: `withChannel` calls on one
 * channel run one at a time, writes apply only when the callback resolves, records are copied in and
 * out, channel ids are keyed lowercase, charges are listed oldest `updatedAt` first and usage counts
 * committed charges and settled payments by their `createdAt`.
 */
export function createMemoryStore(): SessionStore {
  const channels = new Map<Hex, ChannelRecord>();
  const charges = new Map<Hex, Map<string, ChargeRecord>>();
  const payments = new Map<string, PaymentRecord>();
  const mutex = createKeyedMutex();
  const scope = createChannelScope();
  let closed = false;

  function assertOpen(): void {
    if (closed) throw new StoreError("closed", "The session store is closed");
  }

  return {
    async withChannel<T>(rawChannelId: Hex, fn: (tx: ChannelTransaction) => Promise<T>): Promise<T> {
      assertOpen();
      scope.assertOutside();
      const channelId = parseBytes32(rawChannelId);
      const unlock = await mutex.lock(channelId);
      try {
        assertOpen();
        const stored = channels.get(channelId);
        const { tx, finish } = createChannelTransaction({
          channelId,
          channel: stored && { ...stored },
          loadCharge(key) {
            const charge = charges.get(channelId)?.get(key);
            return charge && { ...charge };
          },
        });
        let result: T;
        try {
          result = await scope.run(() => fn(tx));
        } catch (error) {
          // Ended on failure too, so promises the callback left behind cannot write afterwards.
          finish();
          throw error;
        }
        const writes = finish();
        if (writes.channel !== undefined) channels.set(channelId, writes.channel);
        if (writes.charges.length > 0) {
          let byKey = charges.get(channelId);
          if (byKey === undefined) charges.set(channelId, (byKey = new Map()));
          for (const charge of writes.charges) byKey.set(charge.key, charge);
        }
        return result;
      } finally {
        unlock();
      }
    },

    async getChannel(channelId) {
      assertOpen();
      const channel = channels.get(parseBytes32(channelId));
      return channel && { ...channel };
    },

    async listChannels(query = {}) {
      assertOpen();
      return [...channels.values()]
        .filter(
          (channel) =>
            (query.status === undefined || channel.status === query.status) &&
            (query.chainId === undefined || channel.chainId === query.chainId) &&
            (query.escrow === undefined || channel.escrow === query.escrow) &&
            (query.token === undefined || channel.token === query.token) &&
            (query.payee === undefined || channel.payee === query.payee) &&
            (query.payer === undefined || channel.payer === query.payer),
        )
        .sort((a, b) => a.createdAt - b.createdAt || compareText(a.channelId, b.channelId))
        .map((channel) => ({ ...channel }));
    },

    async listCharges(query) {
      assertOpen();
      const channelId = query.channelId === undefined ? undefined : parseBytes32(query.channelId);
      const pools = channelId === undefined ? [...charges.values()] : [charges.get(channelId) ?? new Map<string, ChargeRecord>()];
      return pools
        .flatMap((byKey) => [...byKey.values()])
        .filter(
          (charge) =>
            charge.status === query.status && (query.updatedBefore === undefined || charge.updatedAt < query.updatedBefore),
        )
        .sort((a, b) => a.updatedAt - b.updatedAt || compareText(a.channelId, b.channelId) || compareText(a.key, b.key))
        .map((charge) => ({ ...charge }));
    },

    async usage({ from, to, period, payer }) {
      assertOpen();
      const counted = (record: { payer: ChargeRecord["payer"]; createdAt: number }) =>
        (from === undefined || record.createdAt >= from) && (to === undefined || record.createdAt < to) && (payer === undefined || record.payer === payer);
      const committed = [...charges.values()]
        .flatMap((byKey) => [...byKey.values()])
        .filter((charge) => charge.status === "committed" && counted(charge))
        .map((charge) => ({ ...charge, kind: "charge" as const }));
      const settled = [...payments.values()]
        .filter((payment) => payment.status === "settled" && counted(payment))
        .map((payment) => ({ ...payment, kind: "payment" as const }));
      return aggregateUsage([...committed, ...settled], period);
    },

    async insertPayment(payment) {
      assertOpen();
      const key = paymentKey(payment);
      if (payments.has(key)) return false;
      payments.set(key, { ...payment });
      return true;
    },

    async updatePayment(payment) {
      assertOpen();
      payments.set(paymentKey(payment), { ...payment });
    },

    async listPayments({ status, updatedBefore, payer } = {}) {
      assertOpen();
      return [...payments.values()]
        .filter(
          (payment) =>
            (status === undefined || payment.status === status) &&
            (updatedBefore === undefined || payment.updatedAt < updatedBefore) &&
            (payer === undefined || payment.payer === payer),
        )
        .sort((a, b) => a.createdAt - b.createdAt || compareText(paymentKey(a), paymentKey(b)))
        .map((payment) => ({ ...payment }));
    },

    async close() {
      closed = true;
      await mutex.idle();
    },
  };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
