import type { Address } from "viem";
import type { PaymentCaps } from "../../createPaymentCaps.js";
import { type Offer, readOffer } from "../../readOffer.js";

export type CreateSessionOffersParameters = {
  caps: PaymentCaps;
  /** The payer's address: an offer is read for it. */
  payer: Address;
};

export type SessionOffers = ReturnType<typeof createSessionOffers>;

/** The seller's URL without query: offers and channels are per route. */
export const routeOf = (url: string | URL) => {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
};

/** The latest usable session offer per route (origin and path), so that later requests pay without a 402 first. */
export function createSessionOffers({ caps, payer }: CreateSessionOffersParameters) {
  const latest = new Map<string, Offer>();
  return {
    /** The offer kept for a URL's route, if any. */
    get: (url: string | URL) => latest.get(routeOf(url)),
    /** Keeps `offer` as the latest for a URL's route. */
    set: (url: string | URL, offer: Offer) => void latest.set(routeOf(url), offer),
    /** A response's session offer for `url`, within the caps; undefined when it has none. Not kept: the caller decides. */
    read: (response: Response, url: string | URL) => readOffer({ response, caps, payer, origin: new URL(url).origin }),
  };
}
