import { type PaymentCredential, parseCredential } from "../../protocol/credential.js";
import type { PaymentCredentialInput } from "./GateMethod.js";

/**
 * The request's `Authorization: Payment …` credential, or undefined when its `Authorization` header is
 * absent or of another scheme. Any header of the `Payment` scheme counts, malformed or not: the session
 * answers a malformed one with its problem, so the parse (and its error) waits for the first `parsed()`.
 */
export function readPaymentCredential(request: Request): PaymentCredentialInput | undefined {
  const header = request.headers.get("authorization");
  if (header === null || !/^payment\s/i.test(header.trimStart())) return undefined;
  let outcome: { credential: PaymentCredential } | { error: unknown } | undefined;
  return {
    header,
    parsed() {
      if (outcome === undefined) {
        try {
          outcome = { credential: parseCredential(header) };
        } catch (error) {
          outcome = { error };
        }
      }
      if ("error" in outcome) throw outcome.error;
      return outcome.credential;
    },
  };
}
