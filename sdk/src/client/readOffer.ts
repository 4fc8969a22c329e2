import type { Address } from "viem";
import { PaymentCapError } from "../errors/PaymentCapError.js";
import { decodeChallengeRequest, type PaymentChallenge, parseChallenges } from "../protocol/challenge.js";
import { parseSessionRequest, type SessionRequest } from "../session/request.js";
import { channelKey } from "./ClientChannel.js";
import type { CurrencyCaps, PaymentCaps } from "./createPaymentCaps.js";

/** A challenge this client will pay, with the caps of its currency and the key of its channel. */
export type Offer = {
  challenge: PaymentChallenge;
  request: SessionRequest;
  caps: CurrencyCaps;
  key: string;
  /** The seller pays gas: opens and top-ups go as EIP-3009 authorizations in the credential. */
  relayed: boolean;
};

export type ReadOfferParameters = {
  response: Response;
  caps: PaymentCaps;
  payer: Address;
  /** The origin the response came from: the channel is keyed to it. */
  origin: string;
};

/**
 * Picks the first `evm` session challenge of a 402 that fits the caps; undefined if there is none.
 * When there are some but none fits, the first one's refusal is thrown as a PaymentCapError.
 */
export function readOffer({ response, caps, payer, origin }: ReadOfferParameters): Offer | undefined {
  const header = response.headers.get("www-authenticate");
  if (header === null) return undefined;
  let challenges: PaymentChallenge[];
  try {
    challenges = parseChallenges(header);
  } catch {
    return undefined;
  }
  let refusal: PaymentCapError | undefined;
  for (const challenge of challenges) {
    if (challenge.method !== "evm" || challenge.intent !== "session") continue;
    let request: SessionRequest;
    try {
      request = parseSessionRequest(decodeChallengeRequest(challenge.request));
    } catch {
      continue;
    }
    const checked = caps.check({ chainId: request.methodDetails.chainId, currency: request.currency, amount: request.amount, escrow: request.methodDetails.escrowContract });
    if (checked instanceof PaymentCapError) {
      refusal ??= checked;
      continue;
    }
    const { chainId, escrowContract: escrow, feePayer, credentialTypes = ["hash"] } = request.methodDetails;
    const key = channelKey({ chainId, escrow, payee: request.recipient, token: request.currency, payer, origin });
    return { challenge, request, caps: checked, key, relayed: feePayer === true && credentialTypes.includes("authorization") };
  }
  if (refusal) throw refusal;
  return undefined;
}
