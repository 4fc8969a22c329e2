import { encodeFunctionData, erc20Abi, keccak256 } from "viem";
import { prepareTransactionRequest } from "viem/actions";
import { ConfigurationError } from "../../../errors/ConfigurationError.js";
import type { OneTimePayer } from "../OneTimePayer.js";
import type { OneTimePayment } from "../OneTimePayment.js";
import { checkTransferChain } from "./checkTransferChain.js";

/**
 * Pays with a `transaction` credential: an EIP-1559 ERC-20 `transfer` of the amount to the recipient,
 * signed here and broadcast by the seller (the payer pays its gas). Its account nonce is the payer's
 * next one, so the payer's own transactions wait until the seller has answered; a seller that does not
 * broadcast leaves it unmined, and the payer's next transaction replaces it. A wallet that cannot sign
 * a transaction without sending it (a JSON-RPC account) pays with the next type instead.
 */
export const payWithTransaction: OneTimePayer = async ({ context, offer, url, payments, send }) => {
  const build = offer.credential.transaction;
  if (!build) return undefined;
  checkTransferChain(context, offer);
  const { account, limits, publicClient, chain } = context;
  return context.transacting(async () => {
    const signed = await limits.withinBudget(offer.currency, offer.amount, async () => {
      const request = await prepareTransactionRequest(publicClient, {
        account,
        chain,
        type: "eip1559",
        to: offer.currency,
        data: encodeFunctionData({ abi: erc20Abi, functionName: "transfer", args: [offer.recipient, offer.amount] }),
      });
      let signature;
      try {
        signature = await account.signTransaction(request);
      } catch (error) {
        if (error instanceof ConfigurationError) return undefined;
        throw error;
      }
      const payment: OneTimePayment = {
        method: offer.method,
        credential: "transaction",
        chainId: offer.chainId,
        token: offer.currency,
        amount: offer.amount,
        recipient: offer.recipient,
        nonce: keccak256(signature),
        url,
        createdAt: Date.now(),
      };
      // Stored before it is sent: the seller can broadcast it at any time after.
      await payments.add(payment);
      return { record: payment, signature };
    });
    if (!signed) return undefined;
    return { record: signed.record, response: await send(build({ from: account.address, signature: signed.signature })) };
  });
};
