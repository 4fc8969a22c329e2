import { type Address, zeroAddress } from "viem";
import { computeChannelId } from "../channel/computeChannelId.js";
import type { ClientChannel, ClientChannelStore } from "./ClientChannel.js";

export type CreateOwnChannelStoreParameters = {
  /** The shared store (a file may hold several accounts' channels, and records written by older clients). */
  store: ClientChannelStore;
  payer: Address;
};

/**
 * The channels of one payer in a store that others may share: a record is this payer's only when its
 * channel id derives from the payer's address, so no account ever signs for another's channel. A record
 * written before keys had the payer and the origin (`chainId:escrow:payee:token`) is taken over under the
 * new key by the payer it belongs to, for the origin of its last URL.
 */
export function createOwnChannelStore({ store, payer }: CreateOwnChannelStoreParameters): ClientChannelStore {
  const owns = (channel: ClientChannel) =>
    channel.channelId ===
    computeChannelId({
      chainId: channel.chainId,
      escrow: channel.escrow,
      payer,
      payee: channel.payee,
      token: channel.token,
      salt: channel.salt,
      authorizedSigner: channel.authorizedSigner ?? zeroAddress,
    });
  const complete = (channel: ClientChannel): ClientChannel => ({ ...channel, payer, origin: channel.origin ?? new URL(channel.url).origin });

  return {
    async get(key) {
      const channel = await store.get(key);
      if (channel) return owns(channel) ? channel : undefined;
      const parts = key.split(":");
      const legacy = await store.get(parts.slice(0, 4).join(":"));
      const origin = parts.slice(5).join(":");
      if (!legacy || !owns(legacy) || new URL(legacy.url).origin.toLowerCase() !== origin) return undefined;
      const migrated = { ...complete(legacy), key };
      await store.put(migrated);
      return migrated;
    },
    put: (channel) => store.put(channel),
    async list() {
      // Each channel once: a migrated record over its legacy copy (sorted after it), else the latest put (a
      // finished channel is briefly stored twice while it moves aside for a new one).
      const own = (await store.list()).filter(owns).sort((a, b) => Number(a.payer !== undefined) - Number(b.payer !== undefined));
      return [...new Map(own.map((channel) => [channel.channelId, complete(channel)])).values()];
    },
  };
}
