import { bytesToHex, isAddressEqual } from "viem";
import { InvalidValueError } from "../../errors/InvalidValueError.js";
import { UntrustedServerError } from "../../errors/UntrustedServerError.js";
import type { OneTimePayer } from "./OneTimePayer.js";
import type { OneTimePayment } from "./OneTimePayment.js";
import { signTransferAuthorization } from "./signTransferAuthorization.js";

/**
 * Pays with an EIP-3009 `TransferWithAuthorization`: signed over the token's own domain (a seller
 * naming another one is refused), valid for at most `maxPaymentTimeout` seconds, checked against
 * `totalBudget` and recorded before it is sent. The payment counts as spent from then on: the seller
 * holds a transfer it can submit until `validBefore`, whatever it answers.
 */
export const payWithAuthorization: OneTimePayer = async ({ context, offer, url, payments, maxPaymentTimeout, tokenDomain, send }) => {
  const build = offer.credential.authorization;
  if (!build) return undefined;
  const { account, limits } = context;
  const now = Math.floor(Date.now() / 1000);
  const validBefore = BigInt(Math.min(offer.validUntil ?? Number.POSITIVE_INFINITY, now + maxPaymentTimeout));
  if (validBefore <= BigInt(now)) throw new InvalidValueError("challenge", "The offer leaves no time to pay it");
  const domain = await tokenDomain(offer.currency);
  // The domain signed is the token's own, so a signature can only ever move this token on this chain;
  // a seller stating another one is lying or misconfigured, and is told so before anything is signed.
  if (domain.chainId !== offer.chainId || !isAddressEqual(domain.verifyingContract, offer.currency)) {
    throw new UntrustedServerError(`The token ${offer.currency} reports chain ${domain.chainId}; the offer is for chain ${offer.chainId}`);
  }
  if (offer.statedDomain && (offer.statedDomain.name !== domain.name || offer.statedDomain.version !== domain.version)) {
    throw new UntrustedServerError(`The seller names the token's EIP-712 domain "${offer.statedDomain.name}" version "${offer.statedDomain.version}"; the token states "${domain.name}" version "${domain.version}"`);
  }
  const nonce = offer.nonce ?? bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
  const { record, authorization } = await limits.withinBudget(offer.currency, offer.amount, async () => {
    const signed = await signTransferAuthorization({ account, tokenDomain: domain, to: offer.recipient, value: offer.amount, validAfter: 0n, validBefore, nonce });
    const payment: OneTimePayment = {
      method: offer.method,
      credential: "authorization",
      ...(offer.x402Version === undefined ? {} : { x402Version: offer.x402Version }),
      chainId: offer.chainId,
      token: offer.currency,
      amount: offer.amount,
      recipient: offer.recipient,
      nonce,
      validBefore,
      url,
      createdAt: Date.now(),
    };
    // Stored before it is sent: what the seller can collect is never forgotten.
    await payments.add(payment);
    return { record: payment, authorization: signed };
  });
  return { record, response: await send(build(authorization)) };
};
