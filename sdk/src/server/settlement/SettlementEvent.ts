import type { Hex } from "viem";
import type { PaymentRecord } from "../store/SessionStore.js";

/** What the settlement service did and what failed; failures are retried on the next run. */
export type SettlementEvent =
  | { type: "settled"; channelIds: Hex[]; amount: bigint; txHash: Hex }
  | { type: "closed"; channelId: Hex; reason: "close-requested" | "idle"; txHash: Hex | null }
  | { type: "close-requested"; channelId: Hex; closeRequestedAt: bigint }
  /** A voucher that can never be settled (the escrow would revert, or a contract wallet revoked it): its channel is no longer served. */
  | { type: "claim-rejected"; channelId: Hex; reason: string }
  /** A one-time payment left pending by a process that died, resolved from the chain (see `gate.recoverPayments`). */
  | { type: "payment-recovered"; payment: PaymentRecord }
  /** Deferred one-time payments settled in one batch (`txHash`, null when none had to be sent): each `settled` or `failed`. */
  | { type: "payments-settled"; txHash: Hex | null; payments: PaymentRecord[] }
  | { type: "error"; action: string; error: unknown };
