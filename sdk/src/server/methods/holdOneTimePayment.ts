import type { Address, Hex } from "viem";
import { ContractRevertedError } from "../../errors/ContractRevertedError.js";
import { PaymentProblemError } from "../../protocol/problems.js";
import { type GateContext, type OneTimePayment, type PaidRequest, type PricedRoute, usageLabel } from "../core/GateMethod.js";
import type { PaymentCredential, PaymentRecord } from "../store/SessionStore.js";

export type HoldOneTimePaymentParameters = {
  context: GateContext;
  route: PricedRoute;
  method: OneTimePayment["method"];
  /** The verified credential's type, recorded with the payment (recovery reads the chain by it). */
  credential: PaymentCredential;
  /** Who pays, how much, and the credential's replay token (recorded once). */
  claim: { payer: Address; amount: bigint; nonce: Hex };
  units: bigint;
  challengeId?: string;
  /** The receipt headers of a settled payment. */
  receipt(settled: { hash: Hex; payment: PaymentRecord }): Record<string, string>;
  /** The method's answer to an error `finish` threw. */
  problem(error: unknown): Response | undefined;
  /**
   * Settles the payment and resolves with its mined transaction (for EIP-3009,
   * `settleTransferAuthorization`; x402's facilitator). A PaymentProblemError or a revert: not settled.
   */
  settle(): Promise<Hex>;
  /**
   * The seller's deferred settlement (EIP-3009 only, see createPaymentDeferral): called instead of
   * `settle` with the pending record; resolves with it `accepted` (the response leaves with no
   * receipt: nothing is mined yet), or `settled` or `failed` when it fell back to settling now.
   */
  defer?: ((pending: PaymentRecord) => Promise<PaymentRecord>) | undefined;
};

/**
 * Records a verified credential as a pending payment (once: a replay token already recorded is
 * refused, so a replayed or concurrent copy is never served) and returns the paid request whose
 * `finish` settles it. As x402 requires, settlement happens before the response leaves: a billable
 * status runs `settle` and waits for it to be mined; a revert (the payer moved the funds, used the
 * nonce elsewhere) is a 402 and no content. A status the route does not bill (by default ≥ 400, a
 * handler's 5xx included), or a handler that threw, releases the payment: nothing is transferred, the
 * same rule as a session's reserve and commit. A released credential stays recorded, so it cannot be
 * presented again; the buyer signs a new one. A seller who opted in to deferred settlement (`defer`)
 * answers once the payment is durably `accepted`; the settlement service settles it later.
 */
export async function holdOneTimePayment(parameters: HoldOneTimePaymentParameters): Promise<PaidRequest> {
  const { context, route, method, credential, claim, units, challengeId, receipt, problem, settle, defer } = parameters;
  const { store } = context;
  const createdAt = context.now();
  const pending: PaymentRecord = {
    chainId: context.chainId,
    token: context.currency,
    payer: claim.payer,
    nonce: claim.nonce,
    payee: context.recipient,
    method,
    credential,
    amount: claim.amount,
    units,
    status: "pending",
    txHash: null,
    ...usageLabel(route),
    createdAt,
    updatedAt: createdAt,
  };
  if (!(await store.insertPayment(pending))) {
    throw new PaymentProblemError("verification-failed", { detail: "This credential was already presented", extensions: { reason: "nonce-used" } });
  }
  const end = (status: PaymentRecord["status"], txHash: Hex | null = null) => {
    const record = { ...pending, status, txHash, updatedAt: context.now() };
    return store.updatePayment(record).then(() => record);
  };
  let finished = false;
  const payment: OneTimePayment = { method, payer: claim.payer, units, amount: claim.amount, nonce: claim.nonce, ...(challengeId ? { challengeId } : {}) };
  return {
    payment,
    async finish(status) {
      if (finished) return {};
      finished = true;
      if (!route.billable(status)) {
        await end("released");
        return {};
      }
      if (defer) {
        const outcome = await defer(pending);
        if (outcome.status === "accepted") return {};
        if (outcome.status === "settled") return outcome.txHash ? receipt({ hash: outcome.txHash, payment: outcome }) : {};
        throw new PaymentProblemError("verification-failed", { detail: "Settlement of the payment failed: nothing was transferred", extensions: { reason: "settlement-failed" } });
      }
      let hash: Hex;
      try {
        hash = await settle();
      } catch (error) {
        if (error instanceof PaymentProblemError) {
          await end("failed");
          throw error;
        }
        if (!(error instanceof ContractRevertedError)) throw error;
        await end("failed");
        throw new PaymentProblemError("verification-failed", {
          detail: `Settlement of the payment reverted${error.errorName ? ` (${error.errorName})` : ""}: nothing was transferred`,
          extensions: { reason: "settlement-failed" },
          cause: error,
        });
      }
      return receipt({ hash, payment: await end("settled", hash) });
    },
    async release() {
      if (finished) return;
      finished = true;
      await end("released");
    },
    problem,
  };
}
