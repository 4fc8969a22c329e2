import type { Address } from "viem";
import { InvalidValueError } from "../errors/InvalidValueError.js";
import { PaymentCapError } from "../errors/PaymentCapError.js";
import { type PaymentChallenge, parseChallenges } from "../protocol/challenge.js";
import type { PaymentCaps } from "./createPaymentCaps.js";
import { readChargeOffers } from "./methods/charge/readChargeOffers.js";
import type { OneTimeOffer } from "./methods/OneTimeOffer.js";
import { readX402Offers } from "./methods/x402/readX402Offers.js";
import { type Offer, readOffer } from "./readOffer.js";

/** A way to pay a 402 that this client speaks: an `evm` session, or a one-time payment (charge, x402 `exact`). */
export type PaymentOffer = { kind: "session"; offer: Offer } | { kind: "oneTime"; offer: OneTimeOffer };

export type ReadOffersParameters = { response: Response; caps: PaymentCaps; payer: Address; origin: string };

/**
 * Every offer of a 402, in the order of the choice rule (see chooseOffer): `evm` session, `evm` charge
 * (both from `WWW-Authenticate: Payment`), x402 v2 (`PAYMENT-REQUIRED`), x402 v1 (a JSON body with
 * `x402Version: 1`); the seller's order within each. An offer this client refuses is its typed error
 * (PaymentCapError, InvalidValueError) in its place; one it does not speak is left out.
 */
export async function readOffers({ response, caps, payer, origin }: ReadOffersParameters): Promise<(PaymentOffer | Error)[]> {
  const offers: (PaymentOffer | Error)[] = [];
  try {
    const session = readOffer({ response, caps, payer, origin });
    if (session) offers.push({ kind: "session", offer: session });
  } catch (error) {
    if (!(error instanceof PaymentCapError)) throw error;
    offers.push(error);
  }
  const oneTime = [...readChargeOffers({ challenges: challengesOf(response), caps }), ...readX402Offers({ response, body: await jsonOf(response), caps })];
  for (const entry of oneTime) offers.push(entry instanceof Error ? entry : { kind: "oneTime", offer: entry });
  return offers;
}

/**
 * The choice rule: the first offer, in readOffers' order, that is well-formed and within every cap. A
 * session comes first because after its open every request costs no transaction; then a per-request
 * payment: MPP charge (its authorization is bound to the challenge), x402 v2, x402 v1. When the 402
 * offers something this client speaks but refuses all of it, the first refusal is thrown; when it
 * offers nothing this client speaks, undefined (the 402 goes back to the caller).
 */
export function chooseOffer(offers: (PaymentOffer | Error)[]): PaymentOffer | undefined {
  const chosen = offers.find((entry) => !(entry instanceof Error));
  if (chosen) return chosen as PaymentOffer;
  if (offers.length > 0) throw offers[0];
  return undefined;
}

/** The `Payment` challenges of a 402; a malformed header offers none (as for sessions). */
function challengesOf(response: Response): PaymentChallenge[] {
  const header = response.headers.get("www-authenticate");
  if (header === null) return [];
  try {
    return parseChallenges(header);
  } catch (error) {
    if (error instanceof InvalidValueError) return [];
    throw error;
  }
}

/** The body as JSON without consuming it; undefined when it is not JSON. */
async function jsonOf(response: Response): Promise<unknown> {
  return response.clone().json().catch(() => undefined);
}
