import type { Address, Hex } from "viem";
import { getBlockNumber } from "viem/actions";
import { aggregateTransferAuthorizations } from "../../transactions/aggregateTransferAuthorizations.js";
import { onChain } from "../chain.js";
import type { GateContext } from "../core/GateMethod.js";
import { sendFromSeller } from "../methods/settleTransferAuthorization.js";
import type { PaymentRecord } from "../store/SessionStore.js";
import { readAuthorizationOutcome } from "./readAuthorizationOutcome.js";

export type SettleAuthorizationBatchParameters = {
  context: Pick<GateContext, "chain" | "store" | "now">;
  /** The Multicall3 contract the batch goes through. */
  multicall3: Address;
  /** EIP-3009 payments holding their `signedAuthorization`, all of one token. */
  payments: readonly PaymentRecord[];
  /** How many blocks back an authorization's transaction is looked for. Defaults to 10 000. */
  lookbackBlocks?: bigint;
};

export type SettleAuthorizationBatchReturnType = {
  /** Every payment as now recorded (`settled` or `failed`), in the order given. */
  payments: PaymentRecord[];
  /** The batch transaction, or null when none was needed (every authorization was already used or expired). */
  txHash: Hex | null;
};

/**
 * Settles EIP-3009 payments in one Multicall3 transaction and records each call's outcome: its
 * `AuthorizationUsed` log in the receipt → `settled` with the batch's hash; otherwise the chain is read
 * again (another transaction may have used it: a batch a crashed process sent, another instance's) and
 * an authorization still unused is `failed` (the payer moved the funds). Before sending, each
 * authorization's state is read: one already used is resolved from its logs and left out, so a batch
 * that was sent but not recorded (a crash) is recorded now, never sent twice; an expired one is
 * `failed`. Runs after every earlier transaction of the seller's account. Until a payment's outcome is
 * recorded it keeps its status, so an error (an unknown transaction outcome included) loses nothing:
 * the next run reads the chain again.
 */
export async function settleAuthorizationBatch({ context, multicall3, payments, lookbackBlocks = 10_000n }: SettleAuthorizationBatchParameters): Promise<SettleAuthorizationBatchReturnType> {
  const { chain, store } = context;
  const client = chain.publicClient;
  return sendFromSeller(chain.walletClient, async () => {
    const head = await onChain("read the block number", () => getBlockNumber(client, { cacheTime: 0 }));
    const fromBlock = head > lookbackBlocks ? head - lookbackBlocks : 0n;
    const outcomes = new Map<PaymentRecord, PaymentRecord>();
    const record = async (payment: PaymentRecord, status: "settled" | "failed", txHash: Hex | null) => {
      const updated = { ...payment, status, txHash, updatedAt: context.now() };
      await store.updatePayment(updated);
      outcomes.set(payment, updated);
    };
    /** Records a payment whose authorization the chain says is used; false when it is not. */
    const resolveUsed = async (payment: PaymentRecord) => {
      const outcome = await readAuthorizationOutcome({ client, payment, fromBlock });
      if (outcome.used) await record(payment, outcome.status, outcome.txHash);
      return outcome.used;
    };

    const now = BigInt(Math.floor(context.now() / 1000));
    const toSend: PaymentRecord[] = [];
    for (const payment of payments) {
      if (await resolveUsed(payment)) continue;
      // The token refuses an authorization at or past `validBefore`: it can never be settled.
      if (payment.signedAuthorization!.validBefore <= now) await record(payment, "failed", null);
      else toSend.push(payment);
    }
    let txHash: Hex | null = null;
    if (toSend.length > 0) {
      const sent = await aggregateTransferAuthorizations({
        client: chain.walletClient,
        publicClient: client,
        timeout: chain.timeout,
        multicall3,
        token: toSend[0]!.token,
        transfers: toSend.map(transferOf),
      });
      txHash = sent.hash;
      for (const [i, payment] of toSend.entries()) {
        if (sent.used[i]) await record(payment, "settled", sent.hash);
        else if (!(await resolveUsed(payment))) await record(payment, "failed", null);
      }
    }
    return { payments: payments.map((payment) => outcomes.get(payment)!), txHash };
  });
}

/** The EIP-3009 authorization a payment record and its signed part make up. */
function transferOf(payment: PaymentRecord) {
  const { validAfter, validBefore, signature } = payment.signedAuthorization!;
  const { payer: from, payee: to, amount: value, nonce } = payment;
  return { authorization: { from, to, value, validAfter, validBefore, nonce }, signature };
}
