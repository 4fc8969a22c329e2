import { ConfigurationError } from "../../errors/ConfigurationError.js";
import { payWithHash } from "./charge/payWithHash.js";
import { payWithPermit2 } from "./charge/payWithPermit2.js";
import { payWithTransaction } from "./charge/payWithTransaction.js";
import type { OneTimeCredentialType } from "./OneTimeOffer.js";
import type { OneTimePayer, PayOneTimeParameters } from "./OneTimePayer.js";
import { payWithAuthorization } from "./payWithAuthorization.js";

export type { PayOneTimeParameters } from "./OneTimePayer.js";

/** One payer per credential type this client can pay with. */
const payers: Record<OneTimeCredentialType, OneTimePayer> = {
  permit2: payWithPermit2,
  authorization: payWithAuthorization,
  transaction: payWithTransaction,
  hash: payWithHash,
};

/**
 * Pays one request with the first credential type in the seller's list that this client can pay (the
 * draft: clients SHOULD use the first type they support), then records the settlement transaction the
 * seller's receipt claims. Every cap and the budget are checked, and the payment recorded, before
 * anything is signed or sent (see each payer).
 */
export async function payOneTime(parameters: PayOneTimeParameters): Promise<Response> {
  const { context, offer, payments } = parameters;
  for (const type of offer.credentialTypes) {
    const paid = await payers[type](parameters);
    if (!paid) continue;
    const claimedTransaction = offer.readReceipt(paid.response, context.account.address);
    if (claimedTransaction) await payments.update({ ...paid.record, claimedTransaction });
    return paid.response;
  }
  throw new ConfigurationError("account", `This wallet can pay none of the credential types offered (${offer.credentialTypes.join(", ")})`);
}
