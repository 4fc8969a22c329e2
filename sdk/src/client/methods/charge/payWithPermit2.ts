import { isAddressEqual, numberToHex } from "viem";
import { PERMIT2_ADDRESS } from "../../../authorization/permit2Abi.js";
import { signPermit2Transfer } from "../../../authorization/signPermit2Transfer.js";
import { InvalidValueError } from "../../../errors/InvalidValueError.js";
import { permit2Domain } from "../../../protocol/permit2.js";
import type { OneTimePayer } from "../OneTimePayer.js";
import type { OneTimePayment } from "../OneTimePayment.js";
import { approvePermit2 } from "./approvePermit2.js";
import { checkTransferChain } from "./checkTransferChain.js";

/**
 * Pays with a `permit2` credential: a Permit2 `PermitWitnessTransferFrom` of exactly the amount to the
 * recipient, its witness binding the challenge, signed over Permit2's domain at the canonical address
 * on the client's chain for the recipient as spender (a tollgate seller settles from its recipient
 * account), valid for at most `maxPaymentTimeout` seconds; the seller submits it and pays the gas. Its
 * Permit2 nonce is the challenge's hash, so a challenge is paid at most once.
 *
 * Permit2 pulls the tokens with the payer's ERC-20 allowance to it. When that is short, the payer first
 * approves Permit2 for its `totalBudget` in this currency (the most this client will ever spend in it,
 * so later payments need no transaction), or for exactly this amount when no budget is set: never an
 * unbounded allowance. Every cap and the budget are checked, and the payment recorded, before the
 * approve is sent or the permit signed.
 */
export const payWithPermit2: OneTimePayer = async ({ context, offer, url, payments, maxPaymentTimeout, send }) => {
  const build = offer.credential.permit2;
  if (!build || !offer.permit2 || offer.nonce === undefined) return undefined;
  checkTransferChain(context, offer);
  // The draft: clients SHOULD check the address is the canonical deployment; an approve to anything else could be a drain.
  if (!isAddressEqual(offer.permit2.address, PERMIT2_ADDRESS)) return undefined;
  const { account, limits } = context;
  const now = Math.floor(Date.now() / 1000);
  const deadline = BigInt(Math.min(offer.validUntil ?? Number.POSITIVE_INFINITY, now + maxPaymentTimeout));
  if (deadline <= BigInt(now)) throw new InvalidValueError("challenge", "The offer leaves no time to pay it");
  const nonce = BigInt(offer.nonce);
  const witness = { challengeHash: offer.nonce, externalId: offer.permit2.externalId };
  const signed = await context.transacting(() =>
    limits.withinBudget(offer.currency, offer.amount, async () => {
      const payment: OneTimePayment = {
        method: offer.method,
        credential: "permit2",
        chainId: offer.chainId,
        token: offer.currency,
        amount: offer.amount,
        recipient: offer.recipient,
        nonce: numberToHex(nonce, { size: 32 }),
        validBefore: deadline,
        url,
        createdAt: Date.now(),
      };
      // Stored before the permit exists: what the seller can collect is never forgotten.
      await payments.add(payment);
      await approvePermit2({ context, token: offer.currency, permit2: PERMIT2_ADDRESS, amount: offer.amount, approval: offer.caps.totalBudget ?? offer.amount });
      const domain = permit2Domain({ chainId: context.chain.id, permit2: PERMIT2_ADDRESS });
      const payload = await signPermit2Transfer({ account, domain, spender: offer.recipient, token: offer.currency, amount: offer.amount, to: offer.recipient, nonce, deadline, witness });
      return { record: payment, payload };
    }),
  );
  return { record: signed.record, response: await send(build({ from: account.address, payload: signed.payload })) };
};
