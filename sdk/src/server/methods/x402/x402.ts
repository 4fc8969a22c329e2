import type { Address } from "viem";
import type { TokenDomain } from "../../../authorization/TokenDomain.js";
import { verifyTransferAuthorization } from "../../../authorization/verifyTransferAuthorization.js";
import { InvalidValueError } from "../../../errors/InvalidValueError.js";
import { PaymentProblemError } from "../../../protocol/problems.js";
import {
  decodeX402Header,
  encodeX402Header,
  formatX402PaymentRequired,
  formatX402Requirements,
  parseX402PaymentPayload,
  x402Headers,
  x402Network,
  type X402PaymentPayload,
  type X402Requirements,
  type X402Version,
} from "../../../protocol/x402.js";
import type { ClaimedRequest, GateContext, GateMethod, GateMethodFactory, PaymentOffer, PricedRoute } from "../../core/GateMethod.js";
import { PROBLEM_HEADERS, problemResponse } from "../../problemResponse.js";
import { holdOneTimePayment } from "../holdOneTimePayment.js";
import { settleTransferAuthorization } from "../settleTransferAuthorization.js";
import { createFacilitator, type FacilitatorConfig } from "./createFacilitator.js";
import { readTokenDomainOnce } from "../readTokenDomainOnce.js";
import { createPaymentDeferral, type DeferredSettlement } from "../../settlement/createPaymentDeferral.js";
import { ConfigurationError } from "../../../errors/ConfigurationError.js";

export type X402Parameters = {
  /** The x402 versions offered: v2 in `PAYMENT-REQUIRED`, v1 in the 402's JSON body. Defaults to both. */
  versions?: readonly X402Version[];
  /** Seconds an authorization may take from signing to settlement (`maxTimeoutSeconds`); defaults to 60. */
  maxTimeoutSeconds?: number;
  /** The `mimeType` the requirements describe; defaults to `"application/json"`. */
  mimeType?: string;
  /**
   * Verify and settle through this x402 facilitator (`POST /verify`, `POST /settle`) instead of the
   * seller's own account; its answers are checked against the chain (see createFacilitator).
   */
  facilitator?: FacilitatorConfig;
  /**
   * Answer once the payment is durably `accepted` and let the settlement service settle it later, in
   * batches (not with a facilitator). The response then carries no `PAYMENT-RESPONSE`: the spec's
   * settlement response names a mined transaction. Give `maxTimeoutSeconds` above `minValidity`.
   */
  deferredSettlement?: DeferredSettlement;
};

/** A gate method that sells per request through x402 `exact` on EVM (EIP-3009), v2 and v1. */
export type X402Method = GateMethod & {
  /** Reads the token's EIP-712 domain, which the offer names (`extra.name`, `extra.version`); the gate awaits it at start-up. */
  ready(): Promise<void>;
};

/**
 * x402 `exact` on EVM, settled by the gate itself (or through a facilitator): the 402 carries `PAYMENT-REQUIRED` (v2) and the v1
 * `accepts` in its body; a `PAYMENT-SIGNATURE` or `X-PAYMENT` is checked against the route's
 * requirements and verified (verifyTransferAuthorization), recorded once, and settled on-chain before
 * the response leaves, which carries `PAYMENT-RESPONSE` or `X-PAYMENT-RESPONSE` (with
 * `deferredSettlement`: accepted, the response leaves unsettled and without it).
 */
export function x402({ versions = [2, 1], maxTimeoutSeconds = 60, mimeType = "application/json", facilitator: facilitatorConfig, deferredSettlement }: X402Parameters = {}): GateMethodFactory {
  if (facilitatorConfig && deferredSettlement) throw new ConfigurationError("deferredSettlement", "Deferred settlement batches from the seller's account: it does not go with a facilitator");
  return (context: GateContext): X402Method => {
    const token = readTokenDomainOnce(context);
    const facilitator = facilitatorConfig && createFacilitator(facilitatorConfig, context);
    const deferral = deferredSettlement && createPaymentDeferral({ context, options: deferredSettlement });

    function requirements(route: PricedRoute, request: Request, version: X402Version, domain: TokenDomain): X402Requirements {
      return {
        scheme: "exact",
        network: x402Network(context.chainId, version),
        amount: route.amount * route.units(request),
        asset: context.currency,
        payTo: context.recipient,
        maxTimeoutSeconds,
        extra: { name: domain.name, version: domain.version },
      };
    }

    const resourceOf = (route: PricedRoute, request: Request) => ({ url: request.url, description: route.description ?? "", mimeType });

    function offer(route: PricedRoute, request: Request, error = "Payment required"): PaymentOffer | undefined {
      const { domain } = token;
      if (domain === undefined) return undefined;
      const resource = resourceOf(route, request);
      const result: Required<Pick<PaymentOffer, "headers" | "body">> = { headers: {}, body: {} };
      for (const version of versions) {
        const required = formatX402PaymentRequired({ x402Version: version, error, resource, accepts: [requirements(route, request, version, domain)] });
        if (version === 2) result.headers["payment-required"] = encodeX402Header(required);
        else result.body = required;
      }
      return result;
    }

    /** The route's requirements for this payload's version must be what the payload pays. */
    function assertRequirements(payload: X402PaymentPayload, expected: X402Requirements) {
      const mismatch =
        payload.scheme !== "exact"
          ? "scheme"
          : payload.network !== expected.network
            ? "network"
            : payload.accepted && !sameAddress(payload.accepted.asset, expected.asset)
              ? "asset"
              : payload.accepted && !sameAddress(payload.accepted.payTo, expected.payTo)
                ? "payTo"
                : payload.accepted && payload.accepted.amount !== expected.amount
                  ? "amount"
                  : undefined;
      if (mismatch) {
        throw new PaymentProblemError("verification-failed", { detail: `The payment does not match this route's requirements: ${mismatch}`, extensions: { reason: `${mismatch}-mismatch` } });
      }
    }

    async function authorize({ route, request }: ClaimedRequest) {
      const problem = (error: unknown) => x402Problem(error, (reason) => offer(route, request, reason));
      try {
        const domain = await token.ready();
        const version: X402Version = request.headers.has(x402Headers[2].payment) ? 2 : 1;
        const decoded = decodeX402Header(request.headers.get(x402Headers[version].payment)!.trim());
        const payload = parseX402PaymentPayload(decoded);
        if (payload.x402Version !== version) throw new InvalidValueError("request", `x402 v${payload.x402Version} payload in the v${version} header`);
        const expected = requirements(route, request, version, domain);
        assertRequirements(payload, expected);
        await verifyTransferAuthorization({
          client: context.chain.publicClient,
          domain,
          authorization: payload.authorization,
          signature: payload.signature,
          recipient: context.recipient,
          amount: expected.amount,
          now: BigInt(Math.floor(context.now() / 1000)),
        });
        const asked = { x402Version: version, paymentPayload: decoded, paymentRequirements: formatX402Requirements(expected, version, resourceOf(route, request)) };
        await facilitator?.verify(asked);
        return await holdOneTimePayment({
          context,
          route,
          method: "x402",
          credential: "authorization",
          claim: { payer: payload.authorization.from, amount: payload.authorization.value, nonce: payload.authorization.nonce },
          units: route.units(request),
          problem,
          settle: facilitator
            ? () => facilitator.settle(asked, payload.authorization, expected.network)
            : () => settleTransferAuthorization({ context, authorization: payload.authorization, signature: payload.signature }),
          defer: deferral?.(payload.authorization, payload.signature),
          receipt: ({ hash, payment }) => ({
            [x402Headers[version].response]: encodeX402Header({ success: true, transaction: hash, network: expected.network, payer: payment.payer }),
          }),
        });
      } catch (error) {
        const response = problem(error);
        if (response) return { response };
        throw error;
      }
    }

    return {
      name: "x402",
      offer: (route, request) => offer(route, request),
      claims: ({ request }) => request.headers.has(x402Headers[2].payment) || request.headers.has(x402Headers[1].payment),
      authorize,
      ready: async () => void (await token.ready()),
    };
  };
}

/**
 * x402's answer to a refused payment: the problem details, and on a 402 the offer again with the reason
 * in its `error` (v1 clients read the body, v2 clients `PAYMENT-REQUIRED`).
 */
function x402Problem(error: unknown, offer: (reason: string) => PaymentOffer | undefined): Response | undefined {
  if (!(error instanceof PaymentProblemError) || error.status !== 402) return problemResponse(error, () => "");
  const details = error.toProblemDetails();
  const again = offer(String(error.extensions.reason ?? details.detail ?? details.title));
  return new Response(JSON.stringify({ ...details, ...again?.body }), { status: 402, headers: { ...PROBLEM_HEADERS, ...again?.headers } });
}

function sameAddress(a: Address, b: Address): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
