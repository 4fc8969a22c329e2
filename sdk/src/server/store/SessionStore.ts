import type { Address, Hex } from "viem";

/** A channel as the seller's server accounts for it (the draft's "Server-Side Accounting"). */
export type ChannelRecord = {
  channelId: Hex;
  chainId: number;
  escrow: Address;
  payer: Address;
  payee: Address;
  token: Address;
  /** The voucher signer delegated at open, or the zero address when the payer signs. */
  authorizedSigner: Address;
  /** On-chain deposit as last verified. */
  deposit: bigint;
  /** Cumulative amount settled on-chain. */
  settledOnChain: bigint;
  /** Highest voucher accepted; never decreases. */
  acceptedCumulative: bigint;
  /** Signature of the `acceptedCumulative` voucher: what the server settles or closes with. */
  acceptedSignature: Hex | null;
  /** Charged for delivered service; never decreases. */
  spent: bigint;
  /** Held for requests being served; moves to `spent` on success, back on failure. */
  reserved: bigint;
  /** Units charged so far (requests, photos, tokens…). */
  units: bigint;
  /** When the payer requested a forced close on-chain (unix seconds), 0 when none is pending. */
  closeRequestedAt: bigint;
  status: "open" | "closing" | "closed";
  /** Hash of the last settle or close transaction this server sent. */
  lastTxHash: Hex | null;
  /** Milliseconds since the epoch. */
  createdAt: number;
  updatedAt: number;
};

/** One charge against a channel, keyed by the request's idempotency key (or a generated id). */
export type ChargeRecord = {
  channelId: Hex;
  key: string;
  payer: Address;
  amount: bigint;
  units: bigint;
  status: "reserved" | "committed" | "released";
  /**
   * Hex SHA-256 of the request an Idempotency-Key was first paid for (see `requestFingerprint`), or
   * null for keys the gate generated, which no other request can present.
   */
  fingerprint: string | null;
  /** The paid route's name (its `name` option); absent on charges stored before schema 4. */
  route?: string;
  /** What a unit is on that route; absent means `"request"`. */
  unitType?: string;
  createdAt: number;
  updatedAt: number;
};

/** What a charge or payment paid for, as usage reports group it. */
export type UsageLabel = { route: string; unitType: string };

/** How a one-time payment's credential pays: the MPP `evm` charge draft's four credential types (x402 `exact` is `authorization`). */
export type PaymentCredential = "authorization" | "permit2" | "transaction" | "hash";

/**
 * A one-time payment (MPP `charge`, x402 `exact`): a credential the gate verified, recorded before its
 * request is served. Its identity is its replay token's: chain, token, payer and nonce.
 */
export type PaymentRecord = {
  chainId: number;
  token: Address;
  /** The authorization's `from`. */
  payer: Address;
  /**
   * The replay token (32 bytes), recorded once: the EIP-3009 or Permit2 nonce, or the transfer's
   * transaction hash for `transaction` and `hash` credentials.
   */
  nonce: Hex;
  /** The authorization's `to`: the gate's recipient. */
  payee: Address;
  method: "charge" | "x402";
  /** The credential type; absent on payments stored before schema 5, which were all `authorization`. */
  credential?: PaymentCredential;
  amount: bigint;
  units: bigint;
  /**
   * `pending`: verified, its request being served; `accepted`: served, its settlement deferred to the
   * settlement service (a seller's opt-in); `settled`: transferred on-chain (`txHash`); `released`:
   * the response was not billable, nothing transferred; `failed`: settlement reverted.
   */
  status: "pending" | "accepted" | "settled" | "released" | "failed";
  txHash: Hex | null;
  /** The paid route's name (its `name` option); absent on payments stored before schema 4. */
  route?: string;
  /** What a unit is on that route; absent means `"request"`. */
  unitType?: string;
  /**
   * What settles an `accepted` EIP-3009 payment later: the authorization's window and the payer's
   * signature (its other fields are the record's). Absent on payments settled before responding.
   */
  signedAuthorization?: SignedAuthorization;
  createdAt: number;
  updatedAt: number;
};

/** The part of an EIP-3009 authorization a payment record does not already hold. */
export type SignedAuthorization = { validAfter: bigint; validBefore: bigint; signature: Hex };

/** The store key of a payment: its identity, lowercase. */
export function paymentKey({ chainId, token, payer, nonce }: Pick<PaymentRecord, "chainId" | "token" | "payer" | "nonce">): string {
  return `${chainId}:${token}:${payer}:${nonce}`.toLowerCase();
}

export type PaymentQuery = { status?: PaymentRecord["status"]; updatedBefore?: number; payer?: Address };

/** The view of one channel inside `SessionStore.withChannel`, with the channel locked. */
export interface ChannelTransaction {
  /** The channel as stored when the lock was taken, or undefined when it is not stored yet. */
  readonly channel: ChannelRecord | undefined;
  putChannel(channel: ChannelRecord): Promise<void>;
  getCharge(key: string): Promise<ChargeRecord | undefined>;
  putCharge(charge: ChargeRecord): Promise<void>;
}

export type UsageQuery = {
  /** Inclusive lower bound, milliseconds since the epoch. */
  from?: number;
  /** Exclusive upper bound, milliseconds since the epoch. */
  to?: number;
  period: "hour" | "day" | "month";
  payer?: Address;
};

/**
 * What one payer paid for one route and unit type in one period (UTC): committed session charges and
 * settled one-time payments (charge, x402) together, counted apart.
 */
export type UsageRow = {
  payer: Address;
  /** Start of the period, ISO 8601 UTC. */
  period: string;
  /** The route's name; `"unknown"` for records stored before schema 4. */
  route: string;
  /** What a unit is; `"request"` when the route did not say. */
  unitType: string;
  amount: bigint;
  units: bigint;
  /** Committed session charges. */
  charges: number;
  /** Settled one-time payments (charge, x402). */
  payments: number;
};

/**
 * Channels matching every given field, oldest first. Addresses compare exactly (pass them as stored:
 * checksummed). Several gates may share a store: a gate's own channels are those of its `chainId`,
 * `escrow`, `token` and `payee`.
 */
export type ChannelQuery = {
  status?: ChannelRecord["status"];
  chainId?: number;
  escrow?: Address;
  token?: Address;
  payee?: Address;
  payer?: Address;
};

/**
 * Durable accounting of payment channels. `withChannel` is the only way to change a channel or its
 * charges, and is atomic: its writes land together or not at all, and it is serialized with every other
 * `withChannel` on the same channel, across every server instance sharing the store.
 */
export interface SessionStore {
  withChannel<T>(channelId: Hex, fn: (tx: ChannelTransaction) => Promise<T>): Promise<T>;
  getChannel(channelId: Hex): Promise<ChannelRecord | undefined>;
  listChannels(query?: ChannelQuery): Promise<ChannelRecord[]>;
  listCharges(query: { status: ChargeRecord["status"]; updatedBefore?: number; channelId?: Hex }): Promise<ChargeRecord[]>;
  /** Committed charges and settled one-time payments by their `createdAt`, one row per payer, period, route and unit type. */
  usage(query: UsageQuery): Promise<UsageRow[]>;
  /**
   * Records a verified one-time payment, atomically: resolves false (and writes nothing) when a payment
   * with the same chain, token, payer and nonce is already recorded, whatever its status.
   */
  insertPayment(payment: PaymentRecord): Promise<boolean>;
  /** Replaces the recorded payment of the same identity (its status, transaction, times). */
  updatePayment(payment: PaymentRecord): Promise<void>;
  /** Payments matching every given field, oldest `createdAt` first. */
  listPayments(query?: PaymentQuery): Promise<PaymentRecord[]>;
  close(): Promise<void>;
}
