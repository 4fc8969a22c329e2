import type { Address, Hex } from "viem";
import { getTransaction, sendRawTransaction } from "viem/actions";
import { TransactionOutcomeUnknownError } from "../../../errors/TransactionOutcomeUnknownError.js";
import { TransactionReplacedError } from "../../../errors/TransactionReplacedError.js";
import { PaymentProblemError } from "../../../protocol/problems.js";
import { waitForTransactionOutcome } from "../../../transactions/waitForTransactionOutcome.js";
import type { GateContext } from "../../core/GateMethod.js";
import { findChargeTransfer } from "./findChargeTransfer.js";

export type SettleSignedTransferParameters = {
  context: GateContext;
  /** The buyer's signed transaction, verified. */
  serialized: Hex;
  hash: Hex;
  payer: Address;
  amount: bigint;
};

/**
 * "Transaction Verification", steps 6–9: broadcasts the buyer's transaction (`eth_sendRawTransaction`;
 * the buyer pays its gas), waits for its receipt for the chain's timeout, and checks that it succeeded
 * and moved the amount to the recipient. Any other outcome is `settlement-failed`: no content.
 */
export async function settleSignedTransfer({ context, serialized, hash, payer, amount }: SettleSignedTransferParameters): Promise<Hex> {
  const client = context.chain.publicClient;
  try {
    await sendRawTransaction(client, { serializedTransaction: serialized });
  } catch (error) {
    // The node may already know it (the buyer broadcast it too): then its receipt is still the outcome.
    const known = await getTransaction(client, { hash }).catch(() => undefined);
    if (!known) throw failed(`The transaction could not be broadcast: ${(error as Error).message.split("\n")[0]}`, error);
  }
  let receipt;
  try {
    receipt = await waitForTransactionOutcome({ client, hash, timeout: context.chain.timeout });
  } catch (error) {
    if (error instanceof TransactionOutcomeUnknownError) throw failed(`The transaction was not mined within ${context.chain.timeout} ms`, error);
    if (error instanceof TransactionReplacedError) throw failed("The payer replaced the transaction", error);
    throw error; // A revert: holdOneTimePayment answers it as settlement-failed.
  }
  if (!findChargeTransfer({ logs: receipt.logs, currency: context.currency, recipient: context.recipient, amount, from: payer })) {
    throw failed("The mined transaction has no Transfer of the amount to the recipient", undefined);
  }
  return hash;
}

function failed(detail: string, cause: unknown): PaymentProblemError {
  return new PaymentProblemError("verification-failed", { detail, extensions: { reason: "settlement-failed" }, cause });
}
