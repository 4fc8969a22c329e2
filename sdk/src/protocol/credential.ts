import { decodeBase64urlJson, encodeBase64url } from "./base64url.js";
import { canonicalJson } from "./canonicalJson.js";
import type { PaymentChallenge } from "./challenge.js";
import { PaymentProblemError } from "./problems.js";

/** What a client sends in `Authorization: Payment …`: the echoed challenge and a method payload. */
export type PaymentCredential<Payload = Record<string, unknown>> = {
  challenge: PaymentChallenge;
  /** Payer identifier, e.g. `did:pkh:eip155:8453:0x…`. */
  source?: string;
  payload: Payload;
};

const SCHEME = /^Payment +([A-Za-z0-9_-]+)$/i;
const CHALLENGE_STRINGS = ["id", "realm", "method", "intent", "request"] as const;
const OPTIONAL_STRINGS = ["expires", "digest", "description", "opaque"] as const;

/** The `Authorization` header value for a credential. */
export function formatCredential(credential: PaymentCredential<unknown>): string {
  return `Payment ${encodeBase64url(canonicalJson(credential))}`;
}

/**
 * Parses an `Authorization` header value into a credential whose payload is a JSON object still to be
 * validated by the payment method. Anything malformed raises a `malformed-credential` problem. The
 * credential is frozen, payload included: a gate hands one parse to every method that looks at the
 * request, so none can change what the next one verifies.
 */
export function parseCredential(header: string): PaymentCredential {
  const match = SCHEME.exec(header.trim());
  if (!match) throw malformed("Expected `Payment <base64url>`");
  let value: unknown;
  try {
    value = decodeBase64urlJson(match[1]!);
  } catch (cause) {
    throw malformed("The credential is not base64url-encoded JSON", cause);
  }
  if (!isObject(value)) throw malformed("The credential is not a JSON object");
  const { challenge, source, payload } = value;
  if (!isObject(challenge)) throw malformed("The credential has no challenge object");
  for (const name of CHALLENGE_STRINGS) {
    if (typeof challenge[name] !== "string" || challenge[name] === "") throw malformed(`challenge.${name} is missing`);
  }
  for (const name of OPTIONAL_STRINGS) {
    if (challenge[name] !== undefined && typeof challenge[name] !== "string") throw malformed(`challenge.${name} is not a string`);
  }
  if (source !== undefined && typeof source !== "string") throw malformed("source is not a string");
  if (!isObject(payload)) throw malformed("The credential has no payload object");
  const echoed: Record<string, string> = {};
  for (const name of [...CHALLENGE_STRINGS, ...OPTIONAL_STRINGS]) {
    if (challenge[name] !== undefined) echoed[name] = challenge[name] as string;
  }
  Object.freeze(echoed);
  return Object.freeze({ challenge: echoed as PaymentChallenge, ...(source === undefined ? {} : { source }), payload: deepFreeze(payload) });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function malformed(detail: string, cause?: unknown) {
  return new PaymentProblemError("malformed-credential", { detail, cause });
}
