// What the photo route offers, read from a real unpaid request's 402 (not restated from the gate's
// configuration): each method's terms exactly as they are on the wire.
import { decodeChallengeRequest, parseChallenges } from "../../sdk/src/protocol/challenge.js";
import { decodeX402Header } from "../../sdk/src/protocol/x402.js";

export type FetchOffersParameters = { url: string };

export type FetchOffersReturnType = {
  /** The 402's status, for the caller to check. */
  status: number;
  /** Each `WWW-Authenticate: Payment` challenge's decoded `request`, by intent (`session`, `charge`). */
  session: Record<string, unknown> | undefined;
  charge: Record<string, unknown> | undefined;
  /** The first x402 `accepts` entry of each version: v2 from `PAYMENT-REQUIRED`, v1 from the JSON body. */
  x402v2: Record<string, unknown> | undefined;
  x402v1: Record<string, unknown> | undefined;
};

export async function fetchOffers({ url }: FetchOffersParameters): Promise<FetchOffersReturnType> {
  const response = await fetch(url);
  const challenges = parseChallenges(response.headers.get("www-authenticate") ?? "");
  const request = (intent: string) => {
    const challenge = challenges.find((candidate) => candidate.intent === intent);
    return challenge && decodeChallengeRequest(challenge.request);
  };
  const required = response.headers.get("payment-required");
  const v2 = required === null ? undefined : (decodeX402Header(required) as { accepts?: Record<string, unknown>[] });
  const v1 = (await response.json().catch(() => undefined)) as { x402Version?: number; accepts?: Record<string, unknown>[] } | undefined;
  return {
    status: response.status,
    session: request("session"),
    charge: request("charge"),
    x402v2: v2?.accepts?.[0],
    x402v1: v1?.x402Version === 1 ? v1.accepts?.[0] : undefined,
  };
}
