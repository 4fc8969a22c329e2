import type { Address, Hex } from "viem";
import type { OneTimeCredentialType } from "./OneTimeOffer.js";

/** A per-request payment (MPP charge or x402 `exact`) this client signed and sent. Amounts are base units. */
export type OneTimePayment = {
  method: "charge" | "x402";
  /** How it paid; absent on records made before other types than `authorization` existed. */
  credential?: OneTimeCredentialType;
  /** x402's protocol version (1 or 2); absent for charge. */
  x402Version?: 1 | 2;
  chainId: number;
  token: Address;
  /** What the credential lets the seller move: counted as spent whatever the seller answers. */
  amount: bigint;
  recipient: Address;
  /**
   * The record's identity: the EIP-3009 nonce (`authorization`), the signed transaction's hash
   * (`transaction`), or a random id made before the transfer was sent (`hash`, whose hash is `transaction`).
   */
  nonce: Hex;
  /** Unix seconds after which the authorization is void; absent for a transaction, which does not expire. */
  validBefore?: bigint;
  /** The transfer the client sent itself (`hash` credentials), once mined. */
  transaction?: Hex;
  url: string;
  /** The settlement transaction the seller's receipt names: a claim, kept for reference only. */
  claimedTransaction?: Hex;
  createdAt: number;
};

/** Where the client keeps its per-request payments, so that `totalBudget` counts them after a restart too. */
export interface OneTimePaymentStore {
  add(payment: OneTimePayment): Promise<void>;
  /** Replaces the record with the same token and nonce (to attach the receipt's claim). */
  update(payment: OneTimePayment): Promise<void>;
  list(): Promise<OneTimePayment[]>;
}

/** Keeps per-request payments in memory (the default; gone when the process ends). */
export function createMemoryPaymentStore(): OneTimePaymentStore {
  const payments = new Map<string, OneTimePayment>();
  const key = (payment: OneTimePayment) => `${payment.token}:${payment.nonce}`.toLowerCase();
  return {
    add: async (payment) => void payments.set(key(payment), payment),
    update: async (payment) => void payments.set(key(payment), payment),
    list: async () => [...payments.values()],
  };
}
