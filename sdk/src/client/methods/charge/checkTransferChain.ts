import { UntrustedServerError } from "../../../errors/UntrustedServerError.js";
import type { PayingContext } from "../../PayingContext.js";
import type { OneTimeOffer } from "../OneTimeOffer.js";

/** A transfer the client signs or sends goes to its own chain: an offer naming another is refused before anything is signed. */
export function checkTransferChain(context: PayingContext, offer: OneTimeOffer): void {
  if (offer.chainId !== context.chain.id) {
    throw new UntrustedServerError(`The offer asks for a transfer on chain ${offer.chainId}; this client pays on chain ${context.chain.id}`);
  }
}
