import type { Address, Hex } from "viem";
import { parseAddress } from "../encoding/parseAddress.js";
import { parseAmount } from "../encoding/parseAmount.js";
import { parseBytes32 } from "../encoding/parseBytes32.js";
import { parseSignatureHex } from "../encoding/parseSignatureHex.js";
import { InvalidValueError } from "../errors/InvalidValueError.js";

// x402 (x402-foundation/x402 specs/x402-specification-v2.md, transports-v2/http.md, schemes/exact):
// the wire shapes of the `exact` scheme on EVM, versions 1 and 2, both directions.

/** The HTTP headers x402 travels in, by version. */
export const x402Headers = {
  2: { required: "payment-required", payment: "payment-signature", response: "payment-response" },
  1: { required: undefined, payment: "x-payment", response: "x-payment-response" },
} as const;

export type X402Version = 1 | 2;

/** One `accepts` entry of the `exact` scheme on an EVM chain, amounts in base units. */
export type X402Requirements = {
  scheme: "exact";
  /** `eip155:<chainId>` (v2), or the v1 name of the chain where v1 defines one. */
  network: string;
  amount: bigint;
  /** The EIP-3009 token. */
  asset: Address;
  payTo: Address;
  maxTimeoutSeconds: number;
  /** The token's EIP-712 domain name and version. */
  extra: { name: string; version: string };
};

/** What the 402 describes besides its requirements. */
export type X402Resource = { url: string; description: string; mimeType: string };

/** A 402's x402 content: `PAYMENT-REQUIRED` (v2) or the JSON body (v1). */
export type X402PaymentRequired = {
  x402Version: X402Version;
  error?: string;
  resource: X402Resource;
  accepts: X402Requirements[];
};

/** An EIP-3009 `TransferWithAuthorization` as x402 and the `evm` charge carry it. */
export type TransferAuthorization = {
  from: Address;
  to: Address;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
};

/** `PAYMENT-SIGNATURE` (v2) or `X-PAYMENT` (v1), parsed. */
export type X402PaymentPayload = {
  x402Version: X402Version;
  scheme: string;
  network: string;
  /** The requirements the client chose (v2 only; v1 names scheme and network alone). */
  accepted?: { scheme: string; network: string; amount: bigint; asset: Address; payTo: Address };
  authorization: TransferAuthorization;
  signature: Hex;
};

/** `PAYMENT-RESPONSE` / `X-PAYMENT-RESPONSE`. */
export type X402PaymentResponse = { success: boolean; transaction: Hex | ""; network: string; payer: Address; errorReason?: string };

/** x402 v1's EVM network names (its `network` enum, as @x402/evm 2.27.0 maps them) and their chain ids; every other chain is `eip155:<id>`. */
const V1_NETWORKS: Readonly<Record<string, number>> = {
  ethereum: 1,
  sepolia: 11155111,
  abstract: 2741,
  "abstract-testnet": 11124,
  "base-sepolia": 84532,
  base: 8453,
  "avalanche-fuji": 43113,
  avalanche: 43114,
  iotex: 4689,
  sei: 1329,
  "sei-testnet": 1328,
  polygon: 137,
  "polygon-amoy": 80002,
  peaq: 3338,
  story: 1514,
  educhain: 41923,
  "skale-base-sepolia": 324705682,
  megaeth: 4326,
  monad: 143,
  stable: 988,
  "stable-testnet": 2201,
  celo: 42220,
  flare: 14,
};

/** The network name of `chainId` in x402 `version`. */
export function x402Network(chainId: number, version: X402Version): string {
  const named = version === 1 ? Object.keys(V1_NETWORKS).find((name) => V1_NETWORKS[name] === chainId) : undefined;
  return named ?? `eip155:${chainId}`;
}

/** The chain id of an x402 `network`: `eip155:<id>`, or in v1 also a v1 name; undefined for another namespace or an unknown name. */
export function x402ChainId(network: string, version: X402Version): number | undefined {
  const caip = /^eip155:([1-9][0-9]{0,15})$/.exec(network);
  if (caip) return Number(caip[1]);
  if (network.startsWith("eip155:")) throw new InvalidValueError("chainId", `Malformed network ${network}`);
  return version === 1 && Object.hasOwn(V1_NETWORKS, network) ? V1_NETWORKS[network] : undefined;
}

/** Base64 (RFC 4648 §4, padded) of JSON, as x402's headers carry it. */
export function encodeX402Header(value: unknown): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(JSON.stringify(value))) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Decodes an x402 header strictly: standard or URL-safe base64 of UTF-8 JSON, nothing else. */
export function decodeX402Header(value: string): unknown {
  if (value.length > 16_384 || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value) || value.length % 4 === 1) {
    throw new InvalidValueError("base64url", "The x402 header is not base64");
  }
  try {
    const binary = atob(value.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(binary, (character) => character.charCodeAt(0));
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new InvalidValueError("json", "The x402 header is not base64 of JSON", { cause });
  }
}

/** The wire form of requirements: v2 `amount`, v1 `maxAmountRequired` plus the resource fields. */
export function formatX402Requirements(requirements: X402Requirements, version: X402Version, resource: X402Resource) {
  const { amount, ...rest } = requirements;
  if (version === 2) return { ...rest, amount: amount.toString() };
  return { ...rest, maxAmountRequired: amount.toString(), resource: resource.url, description: resource.description, mimeType: resource.mimeType };
}

/** The `PAYMENT-REQUIRED` header (v2) or the 402 body's members (v1). */
export function formatX402PaymentRequired({ x402Version, error, resource, accepts }: X402PaymentRequired) {
  return {
    x402Version,
    ...(error === undefined ? {} : { error }),
    ...(x402Version === 2 ? { resource } : {}),
    accepts: accepts.map((requirements) => formatX402Requirements(requirements, x402Version, resource)),
  };
}

/** Parses a 402's x402 content (the client's direction): the decoded header (v2) or the JSON body (v1). */
export function parseX402PaymentRequired(value: unknown): X402PaymentRequired {
  const object = record(value, "payment requirements");
  const x402Version = version(object.x402Version);
  if (!Array.isArray(object.accepts)) throw invalid("`accepts` is not an array");
  const resource = x402Version === 2 ? record(object.resource, "resource") : {};
  const accepts = object.accepts.filter((entry) => record(entry, "accepts entry").scheme === "exact").map((entry) => {
    const fields = entry as Record<string, unknown>;
    const extra = record(fields.extra, "extra");
    return {
      scheme: "exact" as const,
      network: text(fields.network, "network"),
      amount: parseAmount(x402Version === 2 ? fields.amount : fields.maxAmountRequired),
      asset: parseAddress(fields.asset),
      payTo: parseAddress(fields.payTo),
      maxTimeoutSeconds: integer(fields.maxTimeoutSeconds, "maxTimeoutSeconds"),
      extra: { name: text(extra.name, "extra.name"), version: text(extra.version, "extra.version") },
    };
  });
  const first = (object.accepts[0] ?? {}) as Record<string, unknown>;
  const url = x402Version === 2 ? resource.url : first.resource;
  return {
    x402Version,
    ...(typeof object.error === "string" ? { error: object.error } : {}),
    resource: {
      url: typeof url === "string" ? url : "",
      description: String((x402Version === 2 ? resource.description : first.description) ?? ""),
      mimeType: String((x402Version === 2 ? resource.mimeType : first.mimeType) ?? ""),
    },
    accepts,
  };
}

/** The authorization's fields as both x402 and the charge draft write them: addresses, decimal strings, hex nonce. */
export function formatTransferAuthorization({ from, to, value, validAfter, validBefore, nonce }: TransferAuthorization) {
  return { from, to, value: value.toString(), validAfter: validAfter.toString(), validBefore: validBefore.toString(), nonce };
}

/** The `exact` EVM scheme's `payload` member: the signature and the authorization in wire form. */
export function formatX402ExactPayload({ authorization, signature }: Pick<X402PaymentPayload, "authorization" | "signature">) {
  return { signature, authorization: formatTransferAuthorization(authorization) };
}

/** The wire form of a payment payload (the client's direction). */
export function formatX402PaymentPayload({ x402Version, scheme, network, accepted, authorization, signature }: X402PaymentPayload, resource?: X402Resource) {
  const payload = formatX402ExactPayload({ authorization, signature });
  if (x402Version === 1) return { x402Version, scheme, network, payload };
  if (accepted === undefined) throw new InvalidValueError("request", "An x402 v2 payload names the requirements it accepted");
  return { x402Version, ...(resource ? { resource } : {}), accepted: { ...accepted, amount: accepted.amount.toString() }, payload };
}

/** Parses a decoded `PAYMENT-SIGNATURE` / `X-PAYMENT` (the server's direction). */
export function parseX402PaymentPayload(value: unknown): X402PaymentPayload {
  const object = record(value, "payment payload");
  const x402Version = version(object.x402Version);
  const payload = record(object.payload, "payload");
  const fields = record(payload.authorization, "payload.authorization");
  const authorization: TransferAuthorization = {
    from: parseAddress(fields.from),
    to: parseAddress(fields.to),
    value: uint256(fields.value, "value"),
    validAfter: uint256(fields.validAfter, "validAfter"),
    validBefore: uint256(fields.validBefore, "validBefore"),
    nonce: parseBytes32(fields.nonce),
  };
  const signature = parseSignatureHex(payload.signature);
  if (x402Version === 1) return { x402Version, scheme: text(object.scheme, "scheme"), network: text(object.network, "network"), authorization, signature };
  const chosen = record(object.accepted, "accepted");
  const accepted = {
    scheme: text(chosen.scheme, "accepted.scheme"),
    network: text(chosen.network, "accepted.network"),
    amount: parseAmount(chosen.amount),
    asset: parseAddress(chosen.asset),
    payTo: parseAddress(chosen.payTo),
  };
  return { x402Version, scheme: accepted.scheme, network: accepted.network, accepted, authorization, signature };
}

/** Parses a decoded `PAYMENT-RESPONSE` / `X-PAYMENT-RESPONSE` (the client's direction). */
export function parseX402PaymentResponse(value: unknown): X402PaymentResponse {
  const object = record(value, "payment response");
  if (typeof object.success !== "boolean") throw invalid("`success` is not a boolean");
  const transaction = object.transaction === "" ? "" : parseBytes32(object.transaction);
  return {
    success: object.success,
    transaction,
    network: text(object.network, "network"),
    payer: parseAddress(object.payer),
    ...(typeof object.errorReason === "string" ? { errorReason: object.errorReason } : {}),
  };
}

function invalid(message: string): InvalidValueError {
  return new InvalidValueError("request", `Malformed x402 message: ${message}`);
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function version(value: unknown): X402Version {
  if (value !== 1 && value !== 2) throw invalid("`x402Version` is neither 1 nor 2");
  return value;
}

function text(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 256) throw invalid(`\`${what}\` is not a string`);
  return value;
}

function integer(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) throw invalid(`\`${what}\` is not a positive integer`);
  return value;
}

/** A uint256 in canonical decimal (EIP-3009's times and values are uint256). */
function uint256(value: unknown, what: string): bigint {
  if (typeof value !== "string" || !/^(?:0|[1-9][0-9]{0,77})$/.test(value)) throw new InvalidValueError("amount", `\`${what}\` is not a canonical decimal string`);
  const number = BigInt(value);
  if (number >= 1n << 256n) throw new InvalidValueError("amount", `\`${what}\` exceeds uint256`);
  return number;
}
