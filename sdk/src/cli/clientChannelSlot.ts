// `tollgate open --channel-store <file> --url <seller URL>`: records the opened channel where a paying
// client keeps its channels, under the key it looks up (chain, escrow, seller, token, payer and the
// seller's origin), so that createPayingFetch({ store: createFileChannelStore({ path }) }) pays through it.
import type { Address, Hex } from "viem";
import { type ClientChannel, channelKey } from "../client/ClientChannel.js";
import { createFileChannelStore } from "../client/createFileChannelStore.js";
import { usageError } from "./errors.js";

/** The seller's paid URL as --url gives it: http(s) only, since its origin is where vouchers go. */
export function parseSellerUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(`--url: not a URL (got ${JSON.stringify(value)})`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw usageError(`--url: expected an http or https URL (got ${url.protocol})`);
  return url;
}

export type ClientChannelSlot = {
  /** Writes the opened channel under the slot's key. */
  record(channel: { channelId: Hex; salt: Hex; deposit: bigint }): Promise<void>;
};

/**
 * Checks, before anything is sent, that the store has no open channel under this key (the client would
 * keep paying through that one), and returns what records the new channel once it is open.
 */
export async function clientChannelSlot({
  path,
  url,
  ...parts
}: {
  path: string;
  url: URL;
  chainId: number;
  escrow: Address;
  payer: Address;
  payee: Address;
  token: Address;
}): Promise<ClientChannelSlot> {
  const key = channelKey({ ...parts, origin: url.origin });
  const store = createFileChannelStore({ path });
  const existing = await store.get(key);
  if (existing !== undefined && existing.status === "open") {
    throw usageError(`--channel-store: ${path} already holds open channel ${existing.channelId} for ${url.origin}; close it first`);
  }
  return {
    async record(channel) {
      const now = Date.now();
      await store.put({
        ...parts,
        ...channel,
        key,
        origin: url.origin,
        cumulativeAmount: 0n,
        signature: null,
        spent: 0n,
        url: url.href,
        status: "open",
        closeRequestedAt: 0n,
        createdAt: now,
        updatedAt: now,
      } satisfies ClientChannel);
    },
  };
}
