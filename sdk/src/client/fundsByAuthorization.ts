import { supportsEip3009 } from "../authorization/supportsEip3009.js";
import type { PayingContext } from "./PayingContext.js";
import type { Offer } from "./readOffer.js";

export type FundsByAuthorizationParameters = { context: PayingContext; offer: Offer };

/**
 * Whether a channel for `offer` is funded by an EIP-3009 authorization the seller submits (it pays the
 * gas, and the open costs the buyer one signature and no block of waiting of its own): when the seller
 * offers it and the token supports EIP-3009. A seller that also takes a `hash` credential is otherwise
 * funded on-chain by the buyer; one that takes only authorizations is sent one regardless.
 */
export async function fundsByAuthorization({ context, offer }: FundsByAuthorizationParameters): Promise<boolean> {
  if (!offer.relayed) return false;
  const { credentialTypes = ["hash"] } = offer.request.methodDetails;
  if (!credentialTypes.includes("hash")) return true;
  return supportsEip3009({ client: context.publicClient, token: offer.request.currency });
}
