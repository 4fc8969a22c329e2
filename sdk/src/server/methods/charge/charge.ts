import type { Address } from "viem";
import { ConfigurationError } from "../../../errors/ConfigurationError.js";
import { encodeBase64url } from "../../../protocol/base64url.js";
import { type ChargeCredentialType, type ChargePayload, formatChargeRequest, parseChargePayload } from "../../../protocol/charge.js";
import { computeChallengeId, encodeChallengeRequest, formatChallenge, isChallengeIdValid, type PaymentChallenge } from "../../../protocol/challenge.js";
import { PaymentProblemError } from "../../../protocol/problems.js";
import { formatReceipt } from "../../../protocol/receipt.js";
import type { ClaimedRequest, GateContext, GateMethod, GateMethodFactory, PaidRequest, PaymentCredentialInput, PricedRoute } from "../../core/GateMethod.js";
import { problemResponse } from "../../problemResponse.js";
import { holdOneTimePayment } from "../holdOneTimePayment.js";
import { readTokenDomainOnce } from "../readTokenDomainOnce.js";
import { createPaymentDeferral, type DeferredSettlement } from "../../settlement/createPaymentDeferral.js";
import type { ChargeVerifier } from "./ChargeVerifier.js";
import { PERMIT2_ADDRESS } from "../../../authorization/permit2Abi.js";
import { assertPermit2Deployed } from "./assertPermit2Deployed.js";
import { verifyPermit2Credential } from "./verifyPermit2Credential.js";
import { verifyAuthorizationCredential } from "./verifyAuthorizationCredential.js";
import { verifyHashCredential } from "./verifyHashCredential.js";
import { verifyTransactionCredential } from "./verifyTransactionCredential.js";

export type ChargeParameters = {
  /** The currency's decimals, sent as `methodDetails.decimals` so clients can show and cap amounts. */
  decimals?: number;
  /**
   * Answer an `authorization` credential once the payment is durably `accepted`, settled later in
   * batches; no `Payment-Receipt` then (the draft issues one only for a mined transaction).
   */
  deferredSettlement?: DeferredSettlement;
  /**
   * The credential types offered, preferred first (`methodDetails.credentialTypes`). Defaults to
   * `["authorization"]`: clients that know only that type (mppx 0.11) refuse a challenge listing others.
   */
  credentialTypes?: ChargeCredentialType[];
  /** Where Permit2 is on the gate's chain, sent as `methodDetails.permit2Address` when `permit2` is offered; defaults to Uniswap's canonical address. */
  permit2Address?: Address;
};

/** One verifier per credential type this gate can accept ("Verification Procedure", step 6). */
const verifiers: { [T in ChargePayload["type"]]: ChargeVerifier<Extract<ChargePayload, { type: T }>> } = {
  permit2: verifyPermit2Credential,
  authorization: verifyAuthorizationCredential,
  transaction: verifyTransactionCredential,
  hash: verifyHashCredential,
};

/** The `evm` charge method of one gate. */
export type ChargeMethod = GateMethod & {
  /** Reads the token's EIP-712 domain, under which authorizations are verified; the gate awaits it at start-up. */
  ready(): Promise<void>;
};

/**
 * The MPP `evm` method's `charge` intent: one `WWW-Authenticate: Payment … intent="charge"` challenge
 * per 402, unique (a random `opaque` under the HMAC id), offering `credentialTypes`; the credential is
 * verified in the draft's order by its type's verifier, recorded once, and settled on-chain before the
 * response leaves with its `Payment-Receipt` (see docs/charge.md for each type's trust).
 */
export function charge({ decimals, credentialTypes = ["authorization"], permit2Address = PERMIT2_ADDRESS, deferredSettlement }: ChargeParameters = {}): GateMethodFactory {
  const offered = [...credentialTypes];
  const permit2 = offered.includes("permit2") ? { permit2Address } : {};
  const unknown = offered.find((type) => !(type in verifiers));
  if (offered.length === 0 || unknown !== undefined || new Set(offered).size !== offered.length) {
    throw new ConfigurationError("credentialTypes", `charge credentialTypes must be distinct and among ${Object.keys(verifiers).join(", ")}${unknown ? `; ${unknown} is not` : ""}`);
  }
  return (context: GateContext): ChargeMethod => {
    const { realm, secret } = context;
    const deferral = deferredSettlement && createPaymentDeferral({ context, options: deferredSettlement });
    const token = readTokenDomainOnce(context);

    /** The draft's request for `route` as `request` costs it. */
    function chargeRequest(route: PricedRoute, request: Request) {
      return formatChargeRequest({
        amount: route.amount * route.units(request),
        currency: context.currency,
        recipient: context.recipient,
        ...(route.description === undefined ? {} : { description: route.description }),
        methodDetails: { chainId: context.chainId, credentialTypes: offered, ...(decimals === undefined ? {} : { decimals }), ...permit2 },
      });
    }

    function challenge(route: PricedRoute, request: Request): PaymentChallenge {
      const fields = {
        realm,
        method: "evm",
        intent: "charge",
        request: encodeChallengeRequest(chargeRequest(route, request)),
        expires: new Date(context.now() + context.challengeTtl * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
        // Makes every challenge, and so the nonce derived from it, unique: two 402s in one second differ.
        opaque: encodeBase64url(crypto.getRandomValues(new Uint8Array(16))),
      };
      return { id: computeChallengeId({ ...fields, secret }), ...fields };
    }

    /** The core draft's check: a challenge this server issued, for this route at this price, unexpired. */
    function verifyChallenge(echoed: PaymentChallenge, route: PricedRoute, request: Request) {
      const issued = echoed.realm === realm && echoed.method === "evm" && echoed.intent === "charge" && isChallengeIdValid(echoed, secret);
      if (!issued) throw new PaymentProblemError("challenge-not-found", { detail: "The credential does not echo a charge challenge this server issued" });
      if (echoed.request !== encodeChallengeRequest(chargeRequest(route, request))) {
        throw new PaymentProblemError("challenge-not-found", { detail: "The challenge was issued for a different price or route" });
      }
      const expires = echoed.expires === undefined ? Number.NaN : Date.parse(echoed.expires);
      if (!(expires > context.now())) throw new PaymentProblemError("payment-expired", { detail: "The challenge has expired" });
    }

    async function authorize({ route, request, credential: input }: ClaimedRequest) {
      const problem = (error: unknown) => problemResponse(error, () => formatChallenge(challenge(route, request)));
      try {
        // 1. Decode the credential. 2. A known `payload.type`. 3–4. The challenge this gate issued.
        // Claimed, so the request carries a Payment credential.
        const credential = input!.parsed();
        const payload = parseChargePayload(credential.payload);
        verifyChallenge(credential.challenge, route, request);
        // The type must be one this challenge offered (every challenge of this gate offers the same list).
        if (!offered.includes(payload.type)) {
          throw new PaymentProblemError("verification-failed", { detail: `The challenge does not offer ${payload.type} credentials`, extensions: { reason: "credential-type-not-offered" } });
        }
        // 5. No `splits` are offered, so every type may pay. 6. The type's own verification.
        const amount = route.amount * route.units(request);
        const verify = verifiers[payload.type] as ChargeVerifier;
        const verified = await verify({ context, payload, challenge: credential.challenge, amount, source: credential.source });
        const held = await holdOneTimePayment({
          context,
          route: verified.paidInAdvance ? { ...route, billable: () => true } : route,
          method: "charge",
          credential: verified.credential,
          claim: verified.claim,
          settle: verified.settle,
          defer: deferral && verified.transferAuthorization && deferral(verified.transferAuthorization.authorization, verified.transferAuthorization.signature),
          units: route.units(request),
          challengeId: credential.challenge.id,
          problem,
          receipt: ({ hash }) => ({
            "payment-receipt": formatReceipt({
              method: "evm",
              intent: "charge",
              status: "success",
              timestamp: new Date(context.now()).toISOString(),
              reference: hash,
              challengeId: credential.challenge.id,
              chainId: context.chainId,
              txHash: hash,
            }),
            "cache-control": "private",
          }),
        });
        return verified.paidInAdvance ? keptPaid(held) : held;
      } catch (error) {
        const response = problem(error);
        if (response) return { response };
        throw error;
      }
    }

    return {
      name: "charge",
      offer: (route, request) => ({ wwwAuthenticate: [formatChallenge(challenge(route, request))] }),
      claims: ({ credential }) => isChargeCredential(credential),
      authorize,
      ready: async () => {
        await token.ready();
        if (permit2.permit2Address) await assertPermit2Deployed(context, permit2.permit2Address);
      },
    };
  };
}

/**
 * A payment whose transfer was mined before the request (`hash`) cannot be released: the record stays
 * `settled` even when the handler throws. It is not put back for another presentation either, since the
 * store cannot hand a released record to exactly one of two concurrent presenters.
 */
function keptPaid(held: PaidRequest): PaidRequest {
  return { ...held, release: async () => void (await held.finish(200)) };
}

/** Whether a request's Payment credential answers an `evm` charge challenge. */
function isChargeCredential(credential: PaymentCredentialInput | undefined): boolean {
  if (credential === undefined) return false;
  try {
    const { challenge } = credential.parsed();
    return challenge.method === "evm" && challenge.intent === "charge";
  } catch {
    return false;
  }
}
