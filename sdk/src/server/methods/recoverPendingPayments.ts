import { type Address, type Hex, TransactionNotFoundError, TransactionReceiptNotFoundError } from "viem";
import { getBlockNumber, getTransaction, getTransactionCount, getTransactionReceipt, readContract } from "viem/actions";
import { isPermit2NonceUsed, PERMIT2_ADDRESS, permit2Abi } from "../../authorization/permit2Abi.js";
import { onChain } from "../chain.js";
import type { GateContext } from "../core/GateMethod.js";
import { readAuthorizationOutcome } from "../settlement/readAuthorizationOutcome.js";
import type { PaymentRecord } from "../store/SessionStore.js";

export type RecoverPendingPaymentsParameters = {
  context: GateContext;
  /** Milliseconds: only payments pending longer than this are resolved (requests in flight keep theirs). */
  olderThan?: number;
  /** How many blocks back the authorization's transaction is looked for. Defaults to 10 000. */
  lookbackBlocks?: bigint;
  /** Where Permit2 is, for `permit2` payments (the gate's `charge({ permit2Address })`); defaults to the canonical address. */
  permit2Address?: Address;
};

/**
 * Resolves one-time payments left `pending` by a process that died between recording and settling
 * them, from the chain, the source of truth:
 * - the authorization is used on-chain: `settled`, with the transaction that used it when its
 *   `AuthorizationUsed` log is within `lookbackBlocks` (else `txHash` null: used, transaction not
 *   found); `failed` when the payer cancelled it or spent its nonce elsewhere (readAuthorizationOutcome);
 * - unused, and the seller's account has no transaction in flight: `released`. A payment's response
 *   leaves only after its settlement is mined, so an unsettled one's response never left: nothing
 *   was delivered, nothing is transferred;
 * - unused while a seller transaction is still in flight (it may be this transfer): left pending for
 *   the next run.
 * A `permit2` payment is read the same way from Permit2's `nonceBitmap`: its nonce used, `settled`
 * (txHash null: Permit2 logs no transfer event); unused and no seller transaction in flight, `released`.
 * A `transaction` or `hash` payment is resolved by its transaction (the replay token is its hash):
 * mined and successful, `settled`; mined and reverted, `failed`; still in the mempool, left pending;
 * unknown to the node, `released` (a buyer's transaction the gate never broadcast).
 * Resolves with the records it changed.
 */
export async function recoverPendingPayments({ context, olderThan = 0, lookbackBlocks = 10_000n, permit2Address = PERMIT2_ADDRESS }: RecoverPendingPaymentsParameters): Promise<PaymentRecord[]> {
  const { store, chain } = context;
  const client = chain.publicClient;
  const stale = await store.listPayments({ status: "pending", updatedBefore: context.now() - olderThan + 1 });
  if (stale.length === 0) return [];
  const seller = chain.walletClient.account.address;
  const head = await onChain("read the block number", () => getBlockNumber(client, { cacheTime: 0 }));
  const fromBlock = head > lookbackBlocks ? head - lookbackBlocks : 0n;
  const resolved: PaymentRecord[] = [];
  for (const payment of stale) {
    const credential = payment.credential ?? "authorization";
    let status: PaymentRecord["status"] | undefined;
    let txHash: Hex | null = null;
    if (credential === "transaction" || credential === "hash") {
      // The replay token is the transfer's own hash: its receipt decides, nothing else is in flight.
      status = await transferOutcome(client, payment.nonce);
      if (status === undefined) continue;
      if (status !== "released") txHash = payment.nonce;
    } else {
      if (credential === "permit2") {
        // Permit2 logs no event for a transfer: a used nonce is settled, its transaction not looked up.
        const nonce = BigInt(payment.nonce);
        const word = await onChain("read the permit's nonce", () => readContract(client, { address: permit2Address, abi: permit2Abi, functionName: "nonceBitmap", args: [payment.payer, nonce >> 8n] }));
        if (isPermit2NonceUsed(word, nonce)) status = "settled";
      } else {
        // EIP-3009 authorizations are read from the token's authorization state.
        const outcome = await readAuthorizationOutcome({ client, payment, fromBlock });
        if (outcome.used) ({ status, txHash } = outcome);
      }
      if (status === undefined) {
        const [sent, mined] = await onChain("read the seller's transaction count", () =>
          Promise.all([getTransactionCount(client, { address: seller, blockTag: "pending" }), getTransactionCount(client, { address: seller, blockTag: "latest" })]),
        );
        if (sent > mined) continue;
        status = "released";
      }
    }
    const record = { ...payment, status, txHash, updatedAt: context.now() };
    await store.updatePayment(record);
    resolved.push(record);
  }
  return resolved;
}

/** A buyer's transfer transaction's outcome: its receipt's status, undefined while it waits in the mempool, `released` when no node knows it. */
async function transferOutcome(client: GateContext["chain"]["publicClient"], hash: Hex): Promise<PaymentRecord["status"] | undefined> {
  const receipt = await onChain("read the transfer's receipt", () =>
    getTransactionReceipt(client, { hash }).catch((error: unknown) => {
      if (error instanceof TransactionReceiptNotFoundError) return null;
      throw error;
    }),
  );
  if (receipt !== null) return receipt.status === "success" ? "settled" : "failed";
  const pending = await onChain("look the transfer up", () =>
    getTransaction(client, { hash }).catch((error: unknown) => {
      if (error instanceof TransactionNotFoundError) return null;
      throw error;
    }),
  );
  return pending === null ? "released" : undefined;
}
