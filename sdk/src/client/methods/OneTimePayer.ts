import type { TokenDomain } from "../../authorization/TokenDomain.js";
import type { PayingContext } from "../PayingContext.js";
import type { CredentialHeader, OneTimeOffer } from "./OneTimeOffer.js";
import type { OneTimePayment, OneTimePaymentStore } from "./OneTimePayment.js";

export type PayOneTimeParameters = {
  context: PayingContext;
  offer: OneTimeOffer;
  url: string;
  payments: OneTimePaymentStore;
  /** Most seconds an authorization may stay valid, whatever the seller asks. */
  maxPaymentTimeout: number;
  /** The token's EIP-712 domain as the chain states it (cached by the caller). */
  tokenDomain(token: OneTimeOffer["currency"]): Promise<TokenDomain>;
  /** Sends the request with the credential header. */
  send(credential: CredentialHeader): Promise<Response>;
};

/** A one-time payment made and its request sent. */
export type PaidOneTime = { record: OneTimePayment; response: Response };

/**
 * Pays an offer with one credential type: checks the caps and the budget, records the payment, then
 * signs or sends and sends the request. Resolves undefined, having recorded nothing, when this wallet
 * cannot make this type (a JSON-RPC wallet signs no transaction it does not send itself).
 */
export type OneTimePayer = (parameters: PayOneTimeParameters) => Promise<PaidOneTime | undefined>;
