import type { Client, Hex } from "viem";
import { ContractRevertedError } from "../../errors/ContractRevertedError.js";
import { PaymentProblemError } from "../../protocol/problems.js";
import type { TransferAuthorization } from "../../protocol/x402.js";
import { transferWithAuthorization } from "../../transactions/transferWithAuthorization.js";
import { type GateContext, type OneTimePayment, type PaidRequest, type PricedRoute, usageLabel } from "../core/GateMethod.js";
import type { PaymentRecord } from "../store/SessionStore.js";

export type HoldOneTimePaymentParameters = {
  context: GateContext;
  route: PricedRoute;
  method: OneTimePayment["method"];
  authorization: TransferAuthorization;
  signature: Hex;
  units: bigint;
  challengeId?: string;
  /** The receipt headers of a settled payment. */
  receipt(settled: { hash: Hex; payment: PaymentRecord }): Record<string, string>;
  /** The method's answer to an error `finish` threw. */
  problem(error: unknown): Response | undefined;
  /**
   * Settles the payment and resolves with its mined transaction (x402's facilitator); defaults to
   * `transferWithAuthorization` from the seller's account. A PaymentProblemError or a revert: not settled.
   */
  settle?: () => Promise<Hex>;
};

/**
 * Records a verified EIP-3009 authorization as a pending payment (once: a nonce already recorded is
 * refused, so a replayed or concurrent copy is never served) and returns the paid request whose
 * `finish` settles it. As x402 requires, settlement happens before the response leaves: a billable
 * status submits `transferWithAuthorization` from the seller's account and waits for it to be mined; a
 * revert (the payer moved the funds, used the nonce elsewhere) is a 402 and no content. A status the
 * route does not bill (by default ≥ 400, a handler's 5xx included), or a handler that threw, releases
 * the payment: nothing is transferred, the same rule as a session's reserve and commit. A released
 * authorization stays recorded, so it cannot be presented again; the buyer signs a new one.
 */
export async function holdOneTimePayment(parameters: HoldOneTimePaymentParameters): Promise<PaidRequest> {
  const { context, route, method, authorization, signature, units, challengeId, receipt, problem } = parameters;
  const { store, chain } = context;
  const settle =
    parameters.settle ??
    (async () => {
      const sent = await serialized(chain.walletClient, () =>
        transferWithAuthorization({ client: chain.walletClient, publicClient: chain.publicClient, timeout: chain.timeout, token: context.currency, authorization, signature }),
      );
      return sent.hash;
    });
  const createdAt = context.now();
  const pending: PaymentRecord = {
    chainId: context.chainId,
    token: context.currency,
    payer: authorization.from,
    nonce: authorization.nonce,
    payee: context.recipient,
    method,
    amount: authorization.value,
    units,
    status: "pending",
    txHash: null,
    ...usageLabel(route),
    createdAt,
    updatedAt: createdAt,
  };
  if (!(await store.insertPayment(pending))) {
    throw new PaymentProblemError("verification-failed", { detail: "This authorization was already presented", extensions: { reason: "nonce-used" } });
  }
  const end = (status: PaymentRecord["status"], txHash: Hex | null = null) => {
    const record = { ...pending, status, txHash, updatedAt: context.now() };
    return store.updatePayment(record).then(() => record);
  };
  let finished = false;
  const payment: OneTimePayment = { method, payer: authorization.from, units, amount: authorization.value, nonce: authorization.nonce, ...(challengeId ? { challengeId } : {}) };
  return {
    payment,
    async finish(status) {
      if (finished) return {};
      finished = true;
      if (!route.billable(status)) {
        await end("released");
        return {};
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
          detail: `Settlement of the authorization reverted${error.errorName ? ` (${error.errorName})` : ""}: nothing was transferred`,
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

// One seller account sends one transaction at a time: concurrent sends would pick the same account nonce.
const queues = new WeakMap<Client, Promise<unknown>>();
function serialized<T>(client: Client, send: () => Promise<T>): Promise<T> {
  const run = (queues.get(client) ?? Promise.resolve()).then(send, send);
  queues.set(client, run.catch(() => undefined));
  return run;
}
