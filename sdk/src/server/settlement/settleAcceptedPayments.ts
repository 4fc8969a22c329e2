import type { Address } from "viem";
import type { PaymentGate } from "../createPaymentGate.js";
import type { PaymentRecord } from "../store/SessionStore.js";
import { multicall3Address } from "./multicall3Address.js";
import type { SettlementEvent } from "./SettlementEvent.js";
import { settleAuthorizationBatch } from "./settleAuthorizationBatch.js";

export type SettleAcceptedPaymentsParameters = {
  gate: PaymentGate;
  /** The Multicall3 contract; defaults to the chain definition's `contracts.multicall3`. */
  multicall3?: Address | undefined;
  /** Payments per batch transaction; a full batch is due at once. */
  batchSize: number;
  /** Milliseconds after acceptance by which a payment is due. */
  maxDelay: number;
  /** Milliseconds before its authorization expires by which a payment is due, whatever `maxDelay`. */
  expiryMargin: number;
  /** Settle every accepted payment now. */
  force?: boolean;
  onEvent(event: SettlementEvent): void;
};

/**
 * Settles the gate's `accepted` (deferred) EIP-3009 payments through Multicall3 once they are due: a
 * full batch, the oldest accepted `maxDelay` ago, or one close to its authorization's expiry. Then all
 * of them go, `batchSize` per transaction, oldest first (see settleAuthorizationBatch).
 */
export async function settleAcceptedPayments({ gate, multicall3, batchSize, maxDelay, expiryMargin, force = false, onEvent }: SettleAcceptedPaymentsParameters): Promise<void> {
  const accepted = (await gate.store.listPayments({ status: "accepted" })).filter((payment) => payment.signedAuthorization !== undefined);
  if (accepted.length === 0) return;
  const now = gate.now();
  const due = (payment: PaymentRecord) => now - payment.updatedAt >= maxDelay || Number(payment.signedAuthorization!.validBefore) * 1000 - expiryMargin <= now;
  if (!force && accepted.length < batchSize && !accepted.some(due)) return;
  const address = multicall3Address(gate.chain, multicall3);
  for (let start = 0; start < accepted.length; start += batchSize) {
    const { payments, txHash } = await settleAuthorizationBatch({ context: gate, multicall3: address, payments: accepted.slice(start, start + batchSize) });
    onEvent({ type: "payments-settled", txHash, payments });
  }
}
