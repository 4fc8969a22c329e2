import { verifyTransferAuthorization } from "../../../authorization/verifyTransferAuthorization.js";
import { chargeChallengeHash, type ChargeAuthorizationPayload } from "../../../protocol/charge.js";
import { readTokenDomainOnce } from "../readTokenDomainOnce.js";
import { settleTransferAuthorization } from "../settleTransferAuthorization.js";
import type { VerifiedCharge, VerifyChargeParameters } from "./ChargeVerifier.js";

/**
 * "Authorization Verification": an EIP-3009 `transferWithAuthorization` signed by `from` over the
 * token's own domain, to the recipient, for the amount, whose nonce is the challenge's hash, valid now.
 * The seller submits it in settlement (and pays its gas).
 */
export async function verifyAuthorizationCredential({ context, payload, challenge, amount }: VerifyChargeParameters<ChargeAuthorizationPayload>): Promise<VerifiedCharge> {
  const domain = await readTokenDomainOnce(context).ready();
  await verifyTransferAuthorization({
    client: context.chain.publicClient,
    domain,
    authorization: payload,
    signature: payload.signature,
    recipient: context.recipient,
    amount,
    nonce: chargeChallengeHash(challenge),
    now: BigInt(Math.floor(context.now() / 1000)),
  });
  const { type: _type, signature, ...authorization } = payload;
  return {
    credential: "authorization",
    claim: { payer: authorization.from, amount: authorization.value, nonce: authorization.nonce },
    settle: () => settleTransferAuthorization({ context, authorization, signature }),
  };
}
