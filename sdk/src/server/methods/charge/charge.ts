import { verifyTransferAuthorization } from "../../../authorization/verifyTransferAuthorization.js";
import { encodeBase64url } from "../../../protocol/base64url.js";
import { chargeChallengeHash, formatChargeRequest, parseChargeAuthorizationPayload } from "../../../protocol/charge.js";
import { computeChallengeId, encodeChallengeRequest, formatChallenge, isChallengeIdValid, type PaymentChallenge } from "../../../protocol/challenge.js";
import { parseCredential } from "../../../protocol/credential.js";
import { PaymentProblemError } from "../../../protocol/problems.js";
import { formatReceipt } from "../../../protocol/receipt.js";
import type { GateContext, GateMethod, GateMethodFactory, PricedRoute } from "../../core/GateMethod.js";
import { problemResponse } from "../../problemResponse.js";
import { holdOneTimePayment } from "../holdOneTimePayment.js";
import { readTokenDomainOnce } from "../readTokenDomainOnce.js";
import { settleTransferAuthorization } from "../settleTransferAuthorization.js";
import { createPaymentDeferral, type DeferredSettlement } from "../../settlement/createPaymentDeferral.js";

export type ChargeParameters = {
  /** The currency's decimals, sent as `methodDetails.decimals` so clients can show and cap amounts. */
  decimals?: number;
  /** Answer once the payment is durably `accepted`, settled later in batches; no `Payment-Receipt` then (the draft issues one only for a mined transaction). */
  deferredSettlement?: DeferredSettlement;
};

/** The `evm` charge method of one gate. */
export type ChargeMethod = GateMethod & {
  /** Reads the token's EIP-712 domain, under which authorizations are verified; the gate awaits it at start-up. */
  ready(): Promise<void>;
};

/**
 * The MPP `evm` method's `charge` intent with `authorization` (EIP-3009) credentials: one
 * `WWW-Authenticate: Payment … intent="charge"` challenge per 402, unique (a random `opaque` under the
 * HMAC id), whose hash is the nonce the payer must sign; the credential is verified in the draft's
 * order, recorded once, and settled on-chain before the response leaves with its `Payment-Receipt`.
 */
export function charge({ decimals, deferredSettlement }: ChargeParameters = {}): GateMethodFactory {
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
        methodDetails: { chainId: context.chainId, credentialTypes: ["authorization"], ...(decimals === undefined ? {} : { decimals }) },
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

    async function authorize(route: PricedRoute, request: Request) {
      const problem = (error: unknown) => problemResponse(error, () => formatChallenge(challenge(route, request)));
      try {
        const domain = await token.ready();
        const credential = parseCredential(request.headers.get("authorization")!);
        verifyChallenge(credential.challenge, route, request);
        const payload = parseChargeAuthorizationPayload(credential.payload);
        const amount = route.amount * route.units(request);
        await verifyTransferAuthorization({
          client: context.chain.publicClient,
          domain,
          authorization: payload,
          signature: payload.signature,
          recipient: context.recipient,
          amount,
          nonce: chargeChallengeHash(credential.challenge),
          now: BigInt(Math.floor(context.now() / 1000)),
        });
        const { type: _type, signature, ...authorization } = payload;
        return await holdOneTimePayment({
          context,
          route,
          method: "charge",
          credential: "authorization",
          claim: { payer: authorization.from, amount: authorization.value, nonce: authorization.nonce },
          settle: () => settleTransferAuthorization({ context, authorization, signature }),
          defer: deferral?.(authorization, signature),
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
      } catch (error) {
        const response = problem(error);
        if (response) return { response };
        throw error;
      }
    }

    return {
      name: "charge",
      offer: (route, request) => ({ wwwAuthenticate: [formatChallenge(challenge(route, request))] }),
      claims: (request) => isChargeCredential(request.headers.get("authorization")),
      authorize,
      ready: async () => void (await token.ready()),
    };
  };
}

/** Whether an `Authorization` header carries a credential answering an `evm` charge challenge. */
function isChargeCredential(header: string | null): boolean {
  if (header === null || !/^payment\s/i.test(header.trimStart())) return false;
  try {
    const { challenge } = parseCredential(header);
    return challenge.method === "evm" && challenge.intent === "charge";
  } catch {
    return false;
  }
}
