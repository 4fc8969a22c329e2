import type { Hex } from "viem";
import { canonicalJson } from "../../../protocol/canonicalJson.js";
import { computeChallengeId, decodeChallengeRequest, encodeChallengeRequest, isChallengeIdValid, type PaymentChallenge } from "../../../protocol/challenge.js";
import { PaymentProblemError } from "../../../protocol/problems.js";
import { formatSessionRequest, type SessionRequest } from "../../../session/request.js";
import type { PricedRoute } from "../../core/GateMethod.js";
import type { SessionContext } from "./SessionContext.js";

const MAX_VERIFIED_CHALLENGES = 10_000;

/** The `evm` session challenges of one priced route: what the route asks for, issuing and verifying. */
export function createSessionChallenges({ realm, secret, challengeTtl, now, chain, feePayer }: SessionContext, route: PricedRoute) {
  const { amount, minVoucherDelta = 0n } = route;
  const request: SessionRequest = {
    amount,
    ...(route.unitType === undefined ? {} : { unitType: route.unitType }),
    suggestedDeposit: route.suggestedDeposit ?? amount * 100n,
    currency: route.currency,
    recipient: route.recipient,
    ...(route.description === undefined ? {} : { description: route.description }),
    methodDetails: {
      chainId: route.chainId,
      escrowContract: chain.escrow,
      ...(minVoucherDelta === 0n ? {} : { minVoucherDelta }),
      ...(feePayer ? { feePayer: true, credentialTypes: ["authorization", "hash"] } : {}),
    },
  };
  const canonicalRequest = canonicalJson(formatSessionRequest(request));
  // The `request` parameter of this route's own challenges (those without a suggested channel).
  const encodedRequest = encodeChallengeRequest(formatSessionRequest(request));
  // Challenges already verified for this route, keyed by every field the id covers besides the three
  // constants checked below, with their expiry in milliseconds. A client pays many requests under one
  // challenge, so this spares the HMAC, the decoding of its request and the parsing of its expiry on
  // all but the first; only the expiry is compared each time.
  const verifiedChallenges = new Map<string, number>();

  /** A challenge for this route, optionally suggesting an existing channel. */
  function challenge(channelId?: Hex): PaymentChallenge {
    const withChannel = channelId === undefined ? request : { ...request, methodDetails: { ...request.methodDetails, channelId } };
    const fields = {
      realm,
      method: "evm",
      intent: "session",
      request: channelId === undefined ? encodedRequest : encodeChallengeRequest(formatSessionRequest(withChannel)),
      expires: new Date(now() + challengeTtl * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    };
    return { id: computeChallengeId({ ...fields, secret }), ...fields, ...(route.description ? { description: route.description } : {}) };
  }

  /** The draft's common verification: a challenge this server issued for this route, unexpired. */
  function verifyChallenge(echoed: PaymentChallenge): void {
    if (echoed.realm !== realm || echoed.method !== "evm" || echoed.intent !== "session") {
      throw new PaymentProblemError("challenge-not-found", { detail: "The credential does not echo a challenge this server issued" });
    }
    const key = `${echoed.id}|${echoed.request}|${echoed.expires ?? ""}|${echoed.digest ?? ""}|${echoed.opaque ?? ""}`;
    let expires = verifiedChallenges.get(key);
    if (expires === undefined) {
      if (!isChallengeIdValid(echoed, secret)) {
        throw new PaymentProblemError("challenge-not-found", { detail: "The credential does not echo a challenge this server issued" });
      }
      if (echoed.request !== encodedRequest) {
        const issued = decodeChallengeRequest(echoed.request);
        const { channelId: _suggested, ...details } = (issued.methodDetails ?? {}) as Record<string, unknown>;
        // A challenge issued for another route (another price) is not accepted here.
        if (canonicalJson({ ...issued, methodDetails: details }) !== canonicalRequest) {
          throw new PaymentProblemError("challenge-not-found", { detail: "The challenge was issued for a different price or route" });
        }
      }
      expires = echoed.expires === undefined ? Number.NaN : Date.parse(echoed.expires);
      if (verifiedChallenges.size >= MAX_VERIFIED_CHALLENGES) verifiedChallenges.clear();
      verifiedChallenges.set(key, expires);
    }
    if (!(expires > now())) throw new PaymentProblemError("challenge-not-found", { detail: "The challenge has expired" });
  }

  return { request, canonicalRequest, challenge, verifyChallenge };
}

export type SessionChallenges = ReturnType<typeof createSessionChallenges>;
