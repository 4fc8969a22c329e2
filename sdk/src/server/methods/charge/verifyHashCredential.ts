import { TransactionReceiptNotFoundError } from "viem";
import { getBlock, getBlockNumber, getTransactionReceipt } from "viem/actions";
import type { ChargeHashPayload } from "../../../protocol/charge.js";
import { PaymentProblemError } from "../../../protocol/problems.js";
import { onChain } from "../../chain.js";
import type { VerifiedCharge, VerifyChargeParameters } from "./ChargeVerifier.js";
import { findChargeTransfer } from "./findChargeTransfer.js";

/**
 * "Hash Verification": the buyer broadcast the transfer and presents its hash. The receipt must show
 * success and a `Transfer` of the currency to the recipient for exactly the amount; its `from` is the
 * payer. Steps 1 and 5 (not consumed before; mark consumed) are the one atomic record that
 * holdOneTimePayment makes of the hash, the replay token.
 *
 * "Hash Credential Binding": the chain cannot show which challenge a transfer paid, but it shows when:
 * the transfer's block must be no older than the challenge (its `expires` minus the gate's challenge
 * lifetime), so an old payment to the seller (someone else's, or one already used elsewhere) buys
 * nothing. The transfer is mined before the request: the payment is settled from the start.
 */
export async function verifyHashCredential({ context, payload, challenge, amount }: VerifyChargeParameters<ChargeHashPayload>): Promise<VerifiedCharge> {
  const client = context.chain.publicClient;
  const { hash } = payload;
  // 2. The receipt.
  const receipt = await onChain("read the transaction receipt", () =>
    getTransactionReceipt(client, { hash }).catch((error: unknown) => {
      if (error instanceof TransactionReceiptNotFoundError) return null;
      throw error;
    }),
  );
  if (receipt === null) refuse("No mined transaction has this hash", "not-mined");
  // 3. Success.
  if (receipt.status !== "success") refuse("The transaction reverted", "transaction-reverted");
  // 4. A Transfer of the currency to the recipient for the amount.
  const transfer = findChargeTransfer({ logs: receipt.logs, currency: context.currency, recipient: context.recipient, amount });
  if (!transfer) refuse("The transaction has no Transfer of the challenge's currency and amount to its recipient", "transfer-mismatch");
  // Binding, as far as the chain allows: mined after the challenge was issued, with the gate's confirmations.
  const [block, head] = await onChain("read the transfer's block", () => Promise.all([getBlock(client, { blockNumber: receipt.blockNumber }), getBlockNumber(client, { cacheTime: 0 })]));
  const issuedAt = BigInt(Math.floor(Date.parse(challenge.expires!) / 1000) - context.challengeTtl);
  if (block.timestamp < issuedAt) refuse("The transfer was mined before this challenge was issued", "transfer-predates-challenge");
  if (head - receipt.blockNumber + 1n < BigInt(context.chain.confirmations)) {
    throw new PaymentProblemError("verification-failed", { detail: "The transfer is not confirmed yet", extensions: { reason: "not-confirmed" }, retryAfter: 5 });
  }
  return {
    credential: "hash",
    claim: { payer: transfer.from, amount, nonce: hash },
    settle: async () => hash,
    paidInAdvance: true,
  };
}

function refuse(detail: string, reason: string): never {
  throw new PaymentProblemError("verification-failed", { detail, extensions: { reason } });
}
