import type { Address } from "viem";
import { StoreError } from "../errors/StoreError.js";
import type { ChannelRecord, PaymentRecord, SessionStore } from "./store/SessionStore.js";

/** What makes a stored channel one gate's own: the chain, escrow, token and recipient it serves. */
export type StoreScope = { chainId: number; escrow: Address; token: Address; payee: Address };

export type ScopeStoreParameters = { store: SessionStore; scope: StoreScope };

/**
 * A test of whether a record belongs to the gate of `scope`. Addresses are compared as lowercase strings:
 * a malformed address in a record some other writer left is simply not this gate's.
 */
export function inScope(scope: StoreScope): (record: ChannelRecord) => boolean {
  const [escrow, token, payee] = [scope.escrow, scope.token, scope.payee].map((address) => address.toLowerCase());
  return (record) =>
    record.chainId === scope.chainId &&
    record.escrow.toLowerCase() === escrow &&
    record.token.toLowerCase() === token &&
    record.payee.toLowerCase() === payee;
}

/**
 * One gate's view of a store that several gates (other chains, escrows, currencies or recipients) may
 * share. A record written by another gate reads as absent: its vouchers are signed under another
 * domain, so accepting a voucher into it, or settling or closing it here, would break its owner's
 * claim. Writing over such a record throws instead of replacing it. Charges are reached through their
 * channel, so they are scoped with it. One-time payments are scoped by their chain, token and payee:
 * another gate's are not listed, and writing one throws. `usage` is not scoped (charges carry no scope
 * of their own).
 */
export function scopeStore({ store, scope }: ScopeStoreParameters): SessionStore {
  const isOwn = inScope(scope);
  const foreignError = (what: string, record: ChannelRecord) =>
    new StoreError(
      "foreign-record",
      `${what} channel ${record.channelId} of chain ${record.chainId}, escrow ${record.escrow}, token ${record.token}, payee ${record.payee}: not this gate's`,
    );

  const [token, payee] = [scope.token, scope.payee].map((address) => address.toLowerCase());
  const isOwnPayment = (payment: PaymentRecord) => payment.chainId === scope.chainId && payment.token.toLowerCase() === token && payment.payee.toLowerCase() === payee;
  const assertOwnPayment = (payment: PaymentRecord) => {
    if (!isOwnPayment(payment)) {
      throw new StoreError("foreign-record", `A payment of chain ${payment.chainId}, token ${payment.token}, payee ${payment.payee}: not this gate's`);
    }
  };

  return {
    withChannel(channelId, fn) {
      return store.withChannel(channelId, (tx) => {
        const foreign = tx.channel !== undefined && !isOwn(tx.channel) ? tx.channel : undefined;
        return fn({
          channel: foreign ? undefined : tx.channel,
          async putChannel(record) {
            if (foreign) throw foreignError("putChannel would overwrite", foreign);
            if (!isOwn(record)) throw foreignError("putChannel of", record);
            return tx.putChannel(record);
          },
          // A foreign channel's charges are its owner's: hidden here and never written.
          getCharge: async (key) => (foreign ? undefined : tx.getCharge(key)),
          async putCharge(charge) {
            if (foreign) throw foreignError("putCharge on", foreign);
            return tx.putCharge(charge);
          },
        });
      });
    },
    async getChannel(channelId) {
      const record = await store.getChannel(channelId);
      return record !== undefined && isOwn(record) ? record : undefined;
    },
    listChannels: async (query) => (await store.listChannels(query)).filter(isOwn),
    async listCharges(query) {
      const charges = await store.listCharges(query);
      if (charges.length === 0) return charges;
      const own = new Set((await store.listChannels()).filter(isOwn).map((record) => record.channelId.toLowerCase()));
      return charges.filter((charge) => own.has(charge.channelId.toLowerCase()));
    },
    usage: (query) => store.usage(query),
    async insertPayment(payment) {
      assertOwnPayment(payment);
      return store.insertPayment(payment);
    },
    async updatePayment(payment) {
      assertOwnPayment(payment);
      return store.updatePayment(payment);
    },
    listPayments: async (query) => (await store.listPayments(query)).filter(isOwnPayment),
    close: () => store.close(),
  };
}
