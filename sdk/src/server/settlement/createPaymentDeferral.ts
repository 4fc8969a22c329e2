import { type Address, erc20Abi, type Hex } from "viem";
import { readContract } from "viem/actions";
import type { TransferAuthorization } from "../../protocol/x402.js";
import { onChain } from "../chain.js";
import type { GateContext } from "../core/GateMethod.js";
import type { PaymentRecord, SessionStore } from "../store/SessionStore.js";
import { createKeyedMutex, type KeyedMutex } from "../store/createKeyedMutex.js";
import { multicall3Address } from "./multicall3Address.js";
import { settleAuthorizationBatch } from "./settleAuthorizationBatch.js";

/**
 * A seller's opt-in to settling EIP-3009 payments after their responses left, in batches the
 * settlement service sends. Deferral extends credit to the payer; these bound it.
 */
export type DeferredSettlement = {
  /**
   * Most a payer may owe in accepted, unsettled payments (base units). Unbounded by default: the
   * payer's on-chain balance must cover all of them in any case.
   */
  maxPerPayer?: bigint;
  /**
   * Seconds an authorization must stay valid after it is accepted, so the settlement service can still
   * settle it (its `paymentMaxDelay` and run interval, with room). Defaults to 300.
   */
  minValidity?: number;
  /** The Multicall3 contract; defaults to the chain definition's `contracts.multicall3`. */
  multicall3?: Address;
};

export type CreatePaymentDeferralParameters = {
  context: GateContext;
  options: DeferredSettlement;
};

/**
 * For one verified authorization, what `holdOneTimePayment` calls with its pending record when the
 * response is billable; resolves with what the payment became: `accepted` (served now, settled later),
 * else `settled` or `failed` now.
 */
export type PaymentDeferral = (authorization: TransferAuthorization, signature: Hex) => (pending: PaymentRecord) => Promise<PaymentRecord>;

// One queue per payer across every method of a gate (they share the scoped store object): the balance
// read and the accepted sum stay consistent while a payment is admitted.
const payerLocks = new WeakMap<SessionStore, KeyedMutex>();

/**
 * Resolves the Multicall3 address now (a ConfigurationError when there is none). Each payment then
 * admits a verified, billable EIP-3009 payment as `accepted` when the credit stays bounded: the
 * authorization stays valid `minValidity` more seconds, and the payer's on-chain balance (and
 * `maxPerPayer`) covers this payment plus every one of theirs already accepted. Otherwise it falls
 * back to settling before the response, together with the payer's accepted payments, theirs first:
 * settling this one alone would spend the balance those were admitted against. The sum is read again
 * after the write, so an instance sharing the store that admitted another payment of the payer at the
 * same moment makes both fall back rather than over-extend.
 */
export function createPaymentDeferral({ context, options }: CreatePaymentDeferralParameters): PaymentDeferral {
  const { store, chain } = context;
  const { minValidity = 300, maxPerPayer } = options;
  const multicall3 = multicall3Address(chain, options.multicall3);
  let locks = payerLocks.get(store);
  if (!locks) payerLocks.set(store, (locks = createKeyedMutex()));
  const mutex = locks;

  return (authorization, signature) => async (pending) => {
    const payment: PaymentRecord = { ...pending, signedAuthorization: { validAfter: authorization.validAfter, validBefore: authorization.validBefore, signature } };
    const release = await mutex.lock(payment.payer.toLowerCase());
    try {
      const owed = async () => (await store.listPayments({ status: "accepted", payer: payment.payer })).reduce((sum, p) => sum + p.amount, 0n);
      const validLongEnough = authorization.validBefore >= BigInt(Math.floor(context.now() / 1000) + minValidity);
      const balance = await onChain("read the payer's balance", () => readContract(chain.publicClient, { address: payment.token, abi: erc20Abi, functionName: "balanceOf", args: [payment.payer] }));
      const limit = maxPerPayer === undefined || maxPerPayer > balance ? balance : maxPerPayer;
      if (validLongEnough && (await owed()) + payment.amount <= limit) {
        const accepted = { ...payment, status: "accepted" as const, updatedAt: context.now() };
        await store.updatePayment(accepted);
        if ((await owed()) <= limit) return accepted;
      }
      const due = [...(await store.listPayments({ status: "accepted", payer: payment.payer })).filter((p) => p.nonce !== payment.nonce), payment];
      const { payments } = await settleAuthorizationBatch({ context, multicall3, payments: due });
      return payments.at(-1)!;
    } finally {
      release();
    }
  };
}
