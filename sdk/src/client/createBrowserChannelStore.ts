import { parseChannelJson, stringifyChannelJson } from "./channelJson.js";
import type { ClientChannel, ClientChannelStore } from "./ClientChannel.js";

/** The part of the Web Storage API the store uses (`window.localStorage` has it). */
export type ChannelStorage = {
  readonly length: number;
  key(index: number): string | null;
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
};

export type CreateBrowserChannelStoreParameters = {
  /** Defaults to `globalThis.localStorage`. */
  storage?: ChannelStorage;
  /** Prefix of this store's entries; defaults to `tollgate:channel:`. */
  prefix?: string;
};

/**
 * Keeps channels in the browser's `localStorage`, one entry per channel key (payer, chain, escrow, seller,
 * currency and the seller's origin), so that a reload resumes the open channel with its session key.
 * `setItem` is synchronous: a voucher is on record before the request carrying it is sent. Anything that
 * runs script on the page's origin can read the entries, session keys included (see ClientChannel).
 */
export function createBrowserChannelStore({ storage, prefix = "tollgate:channel:" }: CreateBrowserChannelStoreParameters = {}): ClientChannelStore {
  // Looked up on use, not at creation: a module that creates the store may load before the page has storage.
  const backing = () => storage ?? (globalThis as { localStorage?: ChannelStorage }).localStorage!;
  const read = (text: string | null) => (text === null ? undefined : parseChannelJson<ClientChannel>(text));

  return {
    get: async (key) => read(backing().getItem(prefix + key)),
    async put(channel) {
      backing().setItem(prefix + channel.key, stringifyChannelJson(channel));
    },
    async list() {
      const entries = backing();
      const channels: ClientChannel[] = [];
      for (let index = 0; index < entries.length; index++) {
        const name = entries.key(index);
        if (name?.startsWith(prefix)) channels.push(read(entries.getItem(name))!);
      }
      return channels;
    },
  };
}
