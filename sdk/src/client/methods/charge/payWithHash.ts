import { bytesToHex, erc20Abi } from "viem";
import { sendContractTransaction } from "../../../transactions/sendContractTransaction.js";
import type { OneTimePayer } from "../OneTimePayer.js";
import type { OneTimePayment } from "../OneTimePayment.js";
import { checkTransferChain } from "./checkTransferChain.js";

/**
 * Pays with a `hash` credential: the client sends the ERC-20 `transfer` itself (any wallet can), waits
 * for its receipt, then presents the hash. The money moves before the seller answers, so the payment is
 * recorded (under a random id) and counted before the transfer is sent, whatever follows.
 */
export const payWithHash: OneTimePayer = async ({ context, offer, url, payments, send }) => {
  const build = offer.credential.hash;
  if (!build) return undefined;
  checkTransferChain(context, offer);
  const { account, limits } = context;
  const record = await limits.withinBudget(offer.currency, offer.amount, async () => {
    const payment: OneTimePayment = {
      method: offer.method,
      credential: "hash",
      chainId: offer.chainId,
      token: offer.currency,
      amount: offer.amount,
      recipient: offer.recipient,
      nonce: bytesToHex(crypto.getRandomValues(new Uint8Array(32))),
      url,
      createdAt: Date.now(),
    };
    await payments.add(payment);
    return payment;
  });
  const { hash } = await context.transacting(() =>
    sendContractTransaction({ ...context.transactionOptions, address: offer.currency, abi: erc20Abi, functionName: "transfer", args: [offer.recipient, offer.amount] }),
  );
  const sent = { ...record, transaction: hash };
  await payments.update(sent);
  return { record: sent, response: await send(build({ from: account.address, hash })) };
};
