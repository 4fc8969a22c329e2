import type { Address, Hex } from "viem";

/** A channel as the paying client knows it. Amounts are base units. */
export type ClientChannel = {
  /** One channel per chain, escrow, seller, token, payer and seller's origin (see `channelKey`). */
  key: string;
  channelId: Hex;
  chainId: number;
  escrow: Address;
  /** The account that opened and funds the channel, and signs its vouchers. */
  payer: Address;
  payee: Address;
  token: Address;
  /** The seller's origin (scheme, host and port): the only site this channel's vouchers are sent to. */
  origin: string;
  salt: Hex;
  /** Escrowed by this client so far. */
  deposit: bigint;
  /** The highest voucher this client signed: the most the seller can ever collect. */
  cumulativeAmount: bigint;
  signature: Hex | null;
  /** What the seller reports as charged, from its last receipt (never above `cumulativeAmount`). */
  spent: bigint;
  /** URL of the last paid request, where a cooperative close is sent. */
  url: string;
  /**
   * `abandoned`: the seller refused the channel and the chain does not show it open (e.g. a relayed open
   * it never submitted); its deposit still counts as escrowed until it is withdrawn.
   */
  status: "open" | "closed" | "abandoned";
  /** Unix seconds when this client requested a forced close; 0 when none. */
  closeRequestedAt: bigint;
  createdAt: number;
  updatedAt: number;
};

/** Where the client keeps its channels, so that a restarted client resumes them. */
export interface ClientChannelStore {
  get(key: string): Promise<ClientChannel | undefined>;
  put(channel: ClientChannel): Promise<void>;
  list(): Promise<ClientChannel[]>;
}

/** Keeps channels in memory (the default; gone when the process ends). */
export function createMemoryChannelStore(): ClientChannelStore {
  const channels = new Map<string, ClientChannel>();
  return {
    get: async (key) => channels.get(key),
    put: async (channel) => void channels.set(channel.key, channel),
    list: async () => [...channels.values()],
  };
}

/**
 * `chainId:escrow:payee:token:payer:origin`, lowercase. The payer keeps two accounts sharing a store
 * apart; the origin keeps a channel opened for one site from being spent through another (a relay).
 */
export function channelKey(parts: { chainId: number; escrow: Address; payee: Address; token: Address; payer: Address; origin: string }): string {
  return `${parts.chainId}:${parts.escrow}:${parts.payee}:${parts.token}:${parts.payer}:${parts.origin}`.toLowerCase();
}
