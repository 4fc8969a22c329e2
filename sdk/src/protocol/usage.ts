// The payer usage endpoint's wire formats: the EIP-712 message a payer (or one of its channels' session
// keys) signs to read its own usage, the header that carries it, and the JSON report it gets back.
import type { Address, Hex } from "viem";
import { InvalidValueError } from "../errors/InvalidValueError.js";
import { parseAddress } from "../encoding/parseAddress.js";
import { parseHex } from "../encoding/parseHex.js";
import { decodeBase64urlJson, encodeBase64url } from "./base64url.js";

/** The authentication scheme of the usage endpoint's `Authorization` header. */
export const USAGE_SCHEME = "TollgateUsage";

/** Seconds a signed usage request stays valid after `issuedAt`. */
export const USAGE_REQUEST_TTL = 300;

export const usageRequestTypes = {
  UsageRequest: [
    { name: "payer", type: "address" },
    { name: "realm", type: "string" },
    { name: "origin", type: "string" },
    { name: "issuedAt", type: "uint64" },
  ],
} as const;

/**
 * What a usage request claims: whose usage, at which seller (the gate's realm and the endpoint's
 * origin, so a signature shown to one seller is useless at another), and when it was signed.
 */
export type UsageRequest = { payer: Address; realm: string; origin: string; issuedAt: bigint };

/** The signed request as the header carries it; `signer` is set when a session key signed instead of the payer. */
export type UsageAuthorization = UsageRequest & { signer?: Address; signature: Hex };

/** The typed data of a usage request on `chainId` (the gate's chain, where ERC-1271 wallets are asked). */
export function getUsageTypedData({ chainId, request }: { chainId: number; request: UsageRequest }) {
  return {
    domain: { name: "Tollgate Usage", version: "1", chainId },
    types: usageRequestTypes,
    primaryType: "UsageRequest" as const,
    message: request,
  };
}

/** The `Authorization` header value: the scheme, then base64url JSON (issuedAt in seconds, as a number). */
export function formatUsageAuthorization({ issuedAt, ...rest }: UsageAuthorization): string {
  return `${USAGE_SCHEME} ${encodeBase64url(JSON.stringify({ ...rest, issuedAt: Number(issuedAt) }))}`;
}

const MAX_TEXT = 256;
// Contract wallets sign in their own formats (ERC-1271, ERC-6492 wrappers): only the size is bounded.
const MAX_SIGNATURE_HEX = 2 + 2 * 4096;

/** Parses the header strictly; an InvalidValueError says what is malformed. */
export function parseUsageAuthorization(header: string): UsageAuthorization {
  const [scheme, token, ...extra] = header.trim().split(/ +/);
  if (scheme?.toLowerCase() !== USAGE_SCHEME.toLowerCase() || token === undefined || extra.length > 0) {
    throw new InvalidValueError("request", `Expected "${USAGE_SCHEME} <base64url JSON>"`);
  }
  const value = decodeBase64urlJson(token) as Record<string, unknown> | null;
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new InvalidValueError("json", "Expected a JSON object");
  const { payer, realm, origin, issuedAt, signer, signature } = value;
  const text = (field: string, member: unknown) => {
    if (typeof member !== "string" || member.length > MAX_TEXT) throw new InvalidValueError("request", `${field}: expected a string of at most ${MAX_TEXT} characters`);
    return member;
  };
  if (!Number.isSafeInteger(issuedAt) || (issuedAt as number) < 0) throw new InvalidValueError("request", "issuedAt: expected unix seconds");
  if (typeof signature !== "string" || signature.length > MAX_SIGNATURE_HEX) throw new InvalidValueError("signature", "signature: expected hex bytes");
  return {
    payer: parseAddress(payer),
    realm: text("realm", realm),
    origin: text("origin", origin),
    issuedAt: BigInt(issuedAt as number),
    ...(signer === undefined ? {} : { signer: parseAddress(signer) }),
    signature: parseHex(signature),
  };
}

/** Sums over some of a payer's usage, amounts in base units as decimal strings. */
export type UsageTotalJson = { amount: string; units: string; charges: number; payments: number };

/** A channel of the payer, as the usage endpoint reports it (amounts in base units, decimal strings). */
export type UsageChannelJson = {
  channelId: Hex;
  status: "open" | "closing" | "closed";
  deposit: string;
  acceptedCumulative: string;
  spent: string;
  settledOnChain: string;
};

/** The usage endpoint's answer: the payer's own usage only. */
export type UsageReportJson = {
  payer: Address;
  /** The ERC-20 amounts are in. */
  currency: Address;
  chainId: number;
  total: UsageTotalJson;
  /** The current UTC month: `period` is its first instant (ISO 8601). */
  month: UsageTotalJson & { period: string };
  routes: (UsageTotalJson & { route: string })[];
  unitTypes: (UsageTotalJson & { unitType: string })[];
  channels: UsageChannelJson[];
};
