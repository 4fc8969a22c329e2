import { hmac } from "@noble/hashes/hmac";
import { sha256 } from "@noble/hashes/sha2";
import { InvalidValueError } from "../errors/InvalidValueError.js";
import { decodeBase64url, decodeBase64urlJson, encodeBase64url } from "./base64url.js";
import { canonicalJson } from "./canonicalJson.js";

/** A `Payment` challenge as it travels in `WWW-Authenticate` and is echoed in a credential. */
export type PaymentChallenge = {
  id: string;
  realm: string;
  /** Payment method, e.g. `"evm"`. */
  method: string;
  /** Payment intent, e.g. `"session"`. */
  intent: string;
  /** base64url of the JCS-serialized request object, exactly as on the wire. */
  request: string;
  /** RFC 3339 expiry. */
  expires?: string;
  digest?: string;
  description?: string;
  opaque?: string;
};

const PARAMETERS = ["id", "realm", "method", "intent", "request", "expires", "digest", "description", "opaque"] as const;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** base64url(JCS(request)): the `request` parameter for a request object. */
export function encodeChallengeRequest(request: Record<string, unknown>): string {
  return encodeBase64url(canonicalJson(request));
}

/** Decodes a `request` parameter into its JSON object. */
export function decodeChallengeRequest(request: string): Record<string, unknown> {
  const value = decodeBase64urlJson(request);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidValueError("challenge", "The challenge request is not a JSON object");
  }
  return value as Record<string, unknown>;
}

export type ComputeChallengeIdParameters = Omit<PaymentChallenge, "id" | "description"> & {
  /** The server's secret; every instance that must verify the challenge shares it. */
  secret: Uint8Array | string;
};

/**
 * The stateless challenge id the core draft recommends: base64url(HMAC-SHA256(secret, realm | method |
 * intent | request | expires | digest | opaque)), absent optional fields as empty slots. Any server
 * instance holding the secret can check that a credential echoes a challenge it issued, unaltered.
 */
export function computeChallengeId({ secret, realm, method, intent, request, expires, digest, opaque }: ComputeChallengeIdParameters): string {
  const input = [realm, method, intent, request, expires ?? "", digest ?? "", opaque ?? ""].join("|");
  const key = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
  return encodeBase64url(hmac(sha256, key, new TextEncoder().encode(input)));
}

/** Whether `challenge.id` is the HMAC of its own fields under `secret` (compared in constant time). */
export function isChallengeIdValid(challenge: PaymentChallenge, secret: Uint8Array | string): boolean {
  const expected = computeChallengeId({ ...challenge, secret });
  if (expected.length !== challenge.id.length) return false;
  let difference = 0;
  for (let i = 0; i < expected.length; i++) difference |= expected.charCodeAt(i) ^ challenge.id.charCodeAt(i);
  return difference === 0;
}

/** The `WWW-Authenticate` value of one challenge: `Payment id="…", realm="…", …`. */
export function formatChallenge(challenge: PaymentChallenge): string {
  const parameters = PARAMETERS.filter((name) => challenge[name] !== undefined).map(
    (name) => `${name}=${quote(challenge[name]!)}`,
  );
  return `Payment ${parameters.join(", ")}`;
}

/**
 * The `Payment` challenges in a `WWW-Authenticate` value, which may also hold other schemes' challenges
 * (those are skipped). A `Payment` challenge without its required parameters is rejected.
 */
export function parseChallenges(header: string): PaymentChallenge[] {
  return parseAuthChallenges(header)
    .filter(({ scheme }) => scheme.toLowerCase() === "payment")
    .map(({ parameters }) => toPaymentChallenge(parameters));
}

function toPaymentChallenge(parameters: Map<string, string>): PaymentChallenge {
  const challenge: Record<string, string> = {};
  for (const name of PARAMETERS) {
    const value = parameters.get(name);
    if (value !== undefined) challenge[name] = value;
  }
  for (const name of ["id", "realm", "method", "intent", "request"] as const) {
    if (!challenge[name]) throw new InvalidValueError("challenge", `Payment challenge without ${name}`);
  }
  decodeBase64url(challenge.request!);
  return challenge as PaymentChallenge;
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, "\\$&")}"`;
}

type AuthChallenge = { scheme: string; parameters: Map<string, string> };

/** RFC 9110 §11.6.1 challenges: `scheme [ token68 | #auth-param ]`, comma separated. */
function parseAuthChallenges(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let position = 0;
  const skip = (pattern: RegExp) => {
    while (position < header.length && pattern.test(header[position]!)) position++;
  };
  const readToken = () => {
    const start = position;
    while (position < header.length && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(header[position]!)) position++;
    return header.slice(start, position);
  };
  const readQuoted = () => {
    let value = "";
    position++; // opening quote
    while (position < header.length && header[position] !== '"') {
      if (header[position] === "\\") position++;
      if (position < header.length) value += header[position++];
    }
    if (header[position] !== '"') throw new InvalidValueError("challenge", "Unterminated quoted string");
    position++;
    return value;
  };

  let current: AuthChallenge | undefined;
  while (position < header.length) {
    skip(/[\s,]/);
    if (position >= header.length) break;
    const start = position;
    const token = readToken();
    if (!token) throw new InvalidValueError("challenge", `Unexpected character at ${position}`);
    skip(/[ \t]/);
    if (current && header[position] === "=") {
      position++;
      skip(/[ \t]/);
      const value = header[position] === '"' ? readQuoted() : readToken();
      current.parameters.set(token.toLowerCase(), value);
      continue;
    }
    if (!TOKEN.test(token)) throw new InvalidValueError("challenge", `Invalid auth scheme at ${start}`);
    current = { scheme: token, parameters: new Map() };
    challenges.push(current);
    // A token68 credential-style value directly after the scheme is not used by any scheme we read.
    const token68 = /^[A-Za-z0-9\-._~+/]+=*(?=\s*(,|$))/.exec(header.slice(position));
    if (token68 && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*=[^=]/.test(header.slice(position))) position += token68[0].length;
  }
  return challenges;
}
