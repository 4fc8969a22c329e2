import type { Client, Hex, TransactionReceipt } from "viem";
import { call, getBlockNumber, getTransaction, getTransactionReceipt, waitForTransactionReceipt } from "viem/actions";
import type { ContractRevertedError } from "../errors/ContractRevertedError.js";
import { TransactionOutcomeUnknownError } from "../errors/TransactionOutcomeUnknownError.js";
import { TransactionReplacedError } from "../errors/TransactionReplacedError.js";
import { revertedError } from "./revertedError.js";

export type WaitForTransactionOutcomeParameters = {
  client: Client;
  hash: Hex;
  /** Milliseconds to wait for a receipt before reporting an unknown outcome. Defaults to 60 000. */
  timeout?: number | undefined;
  /** Blocks that must include the transaction, counting its own. Defaults to 1. */
  confirmations?: number | undefined;
};

export type WaitForTransactionOutcomeReturnType = TransactionReceipt;

const DEFAULT_TIMEOUT = 60_000;

/**
 * Replays a reverted transaction as a call in the block that mined it to learn the revert reason,
 * which receipts do not carry. Best effort: the state can differ from the one the transaction saw,
 * and then the error stays final but unnamed.
 */
async function explainRevert(client: Client, receipt: TransactionReceipt): Promise<ContractRevertedError> {
  const { transactionHash: hash } = receipt;
  try {
    const transaction = await getTransaction(client, { hash });
    await call(client, {
      account: transaction.from,
      to: transaction.to,
      data: transaction.input,
      value: transaction.value,
      gas: transaction.gas,
      blockNumber: receipt.blockNumber,
    });
    return revertedError({ error: undefined, hash, receipt });
  } catch (error) {
    return revertedError({ error, hash, receipt });
  }
}

/** The receipt of `hash` if it is mined with `confirmations` blocks already, else undefined. */
async function confirmedReceipt(client: Client, hash: Hex, confirmations: number): Promise<TransactionReceipt | undefined> {
  try {
    const receipt = await getTransactionReceipt(client, { hash });
    if (confirmations <= 1) return receipt;
    return (await getBlockNumber(client, { cacheTime: 0 })) - receipt.blockNumber + 1n >= BigInt(confirmations) ? receipt : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits for a transaction and classifies its outcome (spec "Transaction Outcome Checks"):
 * status 1 resolves with the receipt; status 0 rejects at once with a final ContractRevertedError
 * naming the custom error; a transaction the wallet cancelled or replaced rejects with
 * TransactionReplacedError; no receipt within `timeout` rejects with TransactionOutcomeUnknownError,
 * which is not a failure (the transaction may still be mined).
 */
export async function waitForTransactionOutcome({
  client,
  hash,
  timeout = DEFAULT_TIMEOUT,
  confirmations = 1,
}: WaitForTransactionOutcomeParameters): Promise<WaitForTransactionOutcomeReturnType> {
  let replaced = false;
  let receipt: TransactionReceipt;
  try {
    // A transaction already mined deep enough is read directly. viem's waitForTransactionReceipt shares
    // one observation among concurrent waits for a hash and leaves the joiners subscribed until their
    // own timeout, so a wait that came later joined a finished observation and saw no receipt.
    receipt =
      (await confirmedReceipt(client, hash, confirmations)) ??
      (await waitForTransactionReceipt(client, {
        hash,
        timeout,
        confirmations,
        // A repriced transaction is the same call at a higher fee: its receipt is this one's outcome.
        onReplaced: ({ reason }) => {
          replaced = reason !== "repriced";
        },
      }));
  } catch (error) {
    throw new TransactionOutcomeUnknownError(hash, { cause: error });
  }
  if (replaced) throw new TransactionReplacedError(hash, receipt);
  if (receipt.status === "success") return receipt;
  throw await explainRevert(client, receipt);
}
