import { type Address, isAddressEqual } from "viem";
import { StoreError } from "../errors/StoreError.js";
import type { ChannelRecord, ChannelTransaction, SessionStore } from "./store/SessionStore.js";

/** What makes a stored channel one gate's own: the chain, escrow, token and recipient it serves. */
export type StoreScope = { chainId: number; escrow: Address; token: Address; payee: Address };

export type ScopeStoreParameters = { store: SessionStore; scope: StoreScope };

/** Whether `record` belongs to the gate of `scope`. */
export function isInScope(record: ChannelRecord, scope: StoreScope): boolean {
  return (
    record.chainId === scope.chainId &&
    isAddressEqual(record.escrow, scope.escrow) &&
    isAddressEqual(record.token, scope.token) &&
    isAddressEqual(record.payee, scope.payee)
  );
}

/**
 * One gate's view of a store that several gates (other chains, escrows, currencies or recipients) may
 * share. A record written by another gate reads as absent: its vouchers are signed under another
 * domain, so accepting a voucher into it, or settling or closing it here, would break its owner's
 * claim. Writing over such a record throws instead of replacing it. Charges are reached through their
 * channel, so they are scoped with it. `usage` is not scoped (charges carry no scope of their own).
 */
export function scopeStore({ store, scope }: ScopeStoreParameters): SessionStore {
  const own = (record: ChannelRecord | undefined) => (record !== undefined && isInScope(record, scope) ? record : undefined);
  const foreignError = (record: ChannelRecord, what: string) =>
    new StoreError("foreign-record", `${what}: channel ${record.channelId} is stored for chain ${record.chainId}, escrow ${record.escrow}, token ${record.token}, payee ${record.payee}, not this gate`);
  const ownIds = async () => new Set((await store.listChannels()).filter((record) => isInScope(record, scope)).map((record) => record.channelId.toLowerCase()));

  return {
    withChannel(channelId, fn) {
      return store.withChannel(channelId, (tx) => {
        const stored = tx.channel;
        const foreign = stored !== undefined && own(stored) === undefined ? stored : undefined;
        const scoped: ChannelTransaction = {
          channel: foreign ? undefined : stored,
          async putChannel(record) {
            if (foreign) throw foreignError(foreign, "putChannel would overwrite another gate's record");
            if (!isInScope(record, scope)) throw foreignError(record, "putChannel of a record outside this gate's scope");
            return tx.putChannel(record);
          },
          // A foreign channel's charges are its owner's: hidden here and never written.
          getCharge: async (key) => (foreign ? undefined : tx.getCharge(key)),
          async putCharge(charge) {
            if (foreign) throw foreignError(foreign, "putCharge on another gate's channel");
            return tx.putCharge(charge);
          },
        };
        return fn(scoped);
      });
    },
    getChannel: async (channelId) => own(await store.getChannel(channelId)),
    async listChannels(query = {}) {
      return (await store.listChannels(query)).filter((record) => isInScope(record, scope));
    },
    async listCharges(query) {
      const charges = await store.listCharges(query);
      if (charges.length === 0) return charges;
      const ids = await ownIds();
      return charges.filter((charge) => ids.has(charge.channelId.toLowerCase()));
    },
    usage: (query) => store.usage(query),
    close: () => store.close(),
  };
}
