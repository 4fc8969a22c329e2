import type { Address, Hex } from "viem";

/** A channel as the paying client knows it. Amounts are base units. */
export type ClientChannel = {
  /** One channel per chain, escrow, seller and token: `chainId:escrow:payee:token`, lowercase. */
  key: string;
  channelId: Hex;
  chainId: number;
  escrow: Address;
  payee: Address;
  token: Address;
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
  status: "open" | "closed";
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

export function channelKey(parts: { chainId: number; escrow: Address; payee: Address; token: Address }): string {
  return `${parts.chainId}:${parts.escrow}:${parts.payee}:${parts.token}`.toLowerCase();
}
