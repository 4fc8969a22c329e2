import { bytesToHex, type Hex } from "viem";
import { canonicalJson } from "../protocol/canonicalJson.js";
import { PaymentProblemError } from "../protocol/problems.js";
import type { ChannelTransaction, ChargeRecord } from "./store/SessionStore.js";
import { uuidv7 } from "./uuidv7.js";

/** An Idempotency-Key the gate honours: visible ASCII, at most 255 characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/** Prefix of the charge keys the gate makes up for requests without an Idempotency-Key (a UUIDv7 follows). */
const GENERATED_KEY = "request:";
/** Prefix of clients' keys; a charge of an expired key is kept under another prefix, which no client can send. */
const CLIENT_KEY = "idempotency:";
const EXPIRED_KEY = "expired:";

/** What binds a client's Idempotency-Key: the request it paid for, and how long it is remembered. */
export type IdempotencyBinding = {
  /** Hex SHA-256 of the request (see `requestChargeKey`). */
  fingerprint: string;
  /** Milliseconds after its first charge that a key is forgotten. */
  ttl: number;
};

/** The key a request is charged under, with its binding when the client chose the key. */
export type ChargeKey = { key: string; idempotency?: IdempotencyBinding };

export type RequestChargeKeyParameters = {
  request: Request;
  channelId: Hex;
  /** The route's canonical request (price, unit type, currency, recipient…). */
  route: string;
  units: bigint;
  cost: bigint;
  /** Milliseconds a key is remembered. */
  ttl: number;
};

/**
 * The charge key of a request: its Idempotency-Key bound to everything that makes the request what it
 * paid for (channel, route, method, URL, body, units and cost), or, without a valid key, a random one.
 * The body is read from a clone, so the handler can still read the request's own.
 */
export async function requestChargeKey({ request, channelId, route, units, cost, ttl }: RequestChargeKeyParameters): Promise<ChargeKey> {
  const header = request.headers.get("idempotency-key");
  if (header === null || !IDEMPOTENCY_KEY.test(header)) return { key: generatedChargeKey() };
  const body = request.body === null ? new ArrayBuffer(0) : await request.clone().arrayBuffer();
  const fields = {
    channelId: channelId.toLowerCase(),
    route,
    method: request.method,
    url: request.url,
    body: await sha256Hex(body),
    units: units.toString(),
    cost: cost.toString(),
  };
  const fingerprint = await sha256Hex(new TextEncoder().encode(canonicalJson(fields)));
  return { key: `${CLIENT_KEY}${header}`, idempotency: { fingerprint, ttl } };
}

/**
 * A charge key for a request without a client's key: 74 random bits, so no other request can present it,
 * after the time, so charges are inserted in key order (see uuidv7).
 */
export function generatedChargeKey(): string {
  return `${GENERATED_KEY}${uuidv7()}`;
}

export type ClaimIdempotencyKeyParameters = IdempotencyBinding & { tx: ChannelTransaction; key: string; now: number };

/**
 * Looks a client's key up before the request is charged. Resolves with the charge to answer again
 * without charging (this very request, already paid for), or undefined when the key is free: never
 * used, released (it bought nothing), or expired (its charge stays, under another key, so that usage
 * still counts it). Throws `idempotency-key-reused` (422) when the key paid for another request, and
 * `idempotency-key-in-flight` (409) while a copy of this request is still being served.
 */
export async function claimIdempotencyKey({ tx, key, fingerprint, ttl, now }: ClaimIdempotencyKeyParameters): Promise<ChargeRecord | undefined> {
  const existing = await tx.getCharge(key);
  if (existing === undefined || existing.status === "released") return undefined;
  const { channelId } = existing;
  const expired = now - existing.createdAt >= ttl;
  // A charge stored before keys were bound (no fingerprint) matches no request until it expires.
  if (!expired && existing.fingerprint !== fingerprint) {
    throw new PaymentProblemError("idempotency-key-reused", {
      detail: "This Idempotency-Key was used for a different request (route, method, URL, body or units)",
      extensions: { channelId },
    });
  }
  // Even expired, a reservation is held until its request finishes (or `recover` releases it).
  if (existing.status === "reserved") {
    throw new PaymentProblemError("idempotency-key-in-flight", {
      detail: "A request with this Idempotency-Key is still being served; retry once it has finished",
      extensions: { channelId },
    });
  }
  if (!expired) return existing;
  await tx.putCharge({ ...existing, key: `${EXPIRED_KEY}${existing.createdAt}:${key}` });
  return undefined;
}

async function sha256Hex(data: ArrayBuffer | Uint8Array<ArrayBuffer>): Promise<string> {
  return bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", data))).slice(2);
}
