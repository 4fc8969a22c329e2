import type { Hex } from "viem";
import { InvalidValueError } from "../../../errors/InvalidValueError.js";
import { PaymentCapError } from "../../../errors/PaymentCapError.js";
import { parseAddress } from "../../../encoding/parseAddress.js";
import { parseAmount } from "../../../encoding/parseAmount.js";
import { decodeChallengeRequest, type PaymentChallenge } from "../../../protocol/challenge.js";
import { formatCredential } from "../../../protocol/credential.js";
import { parseReceipt } from "../../../protocol/receipt.js";
import type { PaymentCaps } from "../../createPaymentCaps.js";
import type { CredentialHeader, OneTimeCredentialType, OneTimeOffer } from "../OneTimeOffer.js";
import { PERMIT2_ADDRESS } from "../../../authorization/permit2Abi.js";
import { formatChargePermit2Payload } from "../../../protocol/permit2.js";
import { chargeChallengeHash, formatChargeAuthorizationPayload, formatChargeTransferPayload } from "../../../protocol/charge.js";

/** The credential types this client pays with. */
const PAYABLE: readonly OneTimeCredentialType[] = ["permit2", "authorization", "transaction", "hash"];

export type ReadChargeOffersParameters = { challenges: PaymentChallenge[]; caps: PaymentCaps };

/**
 * The `evm` `charge` challenges of a 402 this client can pay, each with the credential types it offers
 * that this client builds (`authorization`, `transaction`, `hash`), in the seller's order. A challenge
 * offering none of them, or that has `splits` (which only `permit2` carries), is left out; a malformed
 * one or one above a cap is a typed refusal.
 */
export function readChargeOffers({ challenges, caps }: ReadChargeOffersParameters): (OneTimeOffer | Error)[] {
  const offers: (OneTimeOffer | Error)[] = [];
  for (const challenge of challenges) {
    if (challenge.method !== "evm" || challenge.intent !== "charge") continue;
    try {
      const offer = toOffer(challenge, caps);
      if (offer) offers.push(offer);
    } catch (error) {
      offers.push(error instanceof InvalidValueError ? error : new InvalidValueError("challenge", "Malformed charge challenge", { cause: error }));
    }
  }
  return offers;
}

function toOffer(challenge: PaymentChallenge, caps: PaymentCaps): OneTimeOffer | PaymentCapError | undefined {
  const request = decodeChallengeRequest(challenge.request);
  const details = request.methodDetails;
  if (typeof details !== "object" || details === null || Array.isArray(details)) throw new InvalidValueError("challenge", "The charge request has no methodDetails");
  const { chainId, credentialTypes, splits, permit2Address } = details as Record<string, unknown>;
  if (typeof chainId !== "number" || !Number.isSafeInteger(chainId) || chainId <= 0) throw new InvalidValueError("chainId", "methodDetails.chainId must be a positive integer");
  // The draft: when omitted, the seller accepts `transaction` (and `hash`), not `authorization`.
  const offered = credentialTypes === undefined ? ["transaction", "hash"] : credentialTypes;
  if (!Array.isArray(offered)) throw new InvalidValueError("challenge", "methodDetails.credentialTypes must be a list");
  const payable = PAYABLE.filter((type) => offered.includes(type)).sort((a, b) => offered.indexOf(a) - offered.indexOf(b));
  if (payable.length === 0) return undefined;
  if (splits !== undefined && (!Array.isArray(splits) || splits.length > 0)) return undefined;
  const amount = parseAmount(request.amount);
  const currency = parseAddress(request.currency);
  const recipient = parseAddress(request.recipient);
  const validUntil = challenge.expires === undefined ? undefined : Date.parse(challenge.expires) / 1000;
  if (validUntil !== undefined && !(validUntil > Date.now() / 1000)) throw new InvalidValueError("challenge", "The charge challenge has expired or its expiry is malformed");
  const checked = caps.check({ chainId, currency, amount });
  if (checked instanceof PaymentCapError) return checked;
  const header = (payload: Record<string, unknown>, from: string): CredentialHeader => ({
    name: "authorization",
    value: formatCredential({ challenge, payload, source: `did:pkh:eip155:${chainId}:${from}` }),
  });
  return {
    method: "charge",
    chainId,
    currency,
    amount,
    recipient,
    caps: checked,
    validUntil: validUntil === undefined ? undefined : Math.floor(validUntil),
    nonce: chargeChallengeHash(challenge),
    statedDomain: undefined,
    credentialTypes: payable,
    ...(payable.includes("permit2")
      ? { permit2: { address: permit2Address === undefined ? PERMIT2_ADDRESS : parseAddress(permit2Address), externalId: typeof request.externalId === "string" ? request.externalId : "" } }
      : {}),
    credential: {
      permit2: ({ from, payload }) => header(formatChargePermit2Payload(payload), from),
      authorization: (authorization) => header(formatChargeAuthorizationPayload({ type: "authorization", ...authorization }), authorization.from),
      transaction: ({ from, signature }) => header(formatChargeTransferPayload({ type: "transaction", signature }), from),
      hash: ({ from, hash }) => header(formatChargeTransferPayload({ type: "hash", hash }), from),
    },
    readReceipt(response, _payer) {
      const header = response.headers.get("payment-receipt");
      if (header === null) return undefined;
      try {
        const reference = parseReceipt(header).reference;
        return /^0x[0-9a-fA-F]{64}$/.test(reference) ? (reference as Hex) : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

