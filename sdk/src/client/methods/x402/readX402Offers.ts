import { getAddress, type Hex, isAddressEqual } from "viem";
import { InvalidValueError } from "../../../errors/InvalidValueError.js";
import { PaymentCapError } from "../../../errors/PaymentCapError.js";
import { parseAddress } from "../../../encoding/parseAddress.js";
import { parseAmount } from "../../../encoding/parseAmount.js";
import type { PaymentCaps } from "../../createPaymentCaps.js";
import type { OneTimeOffer } from "../OneTimeOffer.js";
import { encodeX402Header, formatX402ExactPayload, x402ChainId, x402Headers } from "../../../protocol/x402.js";
import { decodeX402Json } from "./decodeX402Json.js";

/** More entries than any honest seller lists: a larger `accepts` is refused rather than walked. */
const MAX_ACCEPTS = 32;

export type ReadX402OffersParameters = {
  response: Response;
  /** The 402's body as JSON, or undefined when it is not JSON (a v1 offer lives there). */
  body: unknown;
  caps: PaymentCaps;
};

/**
 * The x402 `exact` EVM offers of a 402: v2 from `PAYMENT-REQUIRED`, v1 from a body with `x402Version: 1`.
 * Each entry is an offer, a typed refusal (malformed, or above a cap) or left out (another scheme, a
 * non-EVM network, a transfer method other than EIP-3009).
 */
export function readX402Offers({ response, body, caps }: ReadX402OffersParameters): (OneTimeOffer | Error)[] {
  const entries: (OneTimeOffer | Error | undefined)[] = [];
  const header = response.headers.get(x402Headers[2].required);
  if (header !== null) {
    try {
      const required = decodeX402Json(header, "PAYMENT-REQUIRED");
      if (required.x402Version !== 2) throw new InvalidValueError("challenge", "PAYMENT-REQUIRED is not x402Version 2");
      const resource = required.resource;
      if (typeof resource !== "object" || resource === null || typeof (resource as { url?: unknown }).url !== "string") {
        throw new InvalidValueError("challenge", "PAYMENT-REQUIRED has no resource url");
      }
      for (const accepted of acceptsOf(required)) entries.push(guard(() => toOffer({ accepted, version: 2, resource, caps })));
    } catch (error) {
      entries.push(asError(error));
    }
  }
  if (typeof body === "object" && body !== null && (body as { x402Version?: unknown }).x402Version === 1) {
    try {
      for (const accepted of acceptsOf(body as Record<string, unknown>)) entries.push(guard(() => toOffer({ accepted, version: 1, resource: undefined, caps })));
    } catch (error) {
      entries.push(asError(error));
    }
  }
  return entries.filter((entry) => entry !== undefined);
}

function acceptsOf(required: Record<string, unknown>): Record<string, unknown>[] {
  const { accepts } = required;
  if (!Array.isArray(accepts) || accepts.length > MAX_ACCEPTS) throw new InvalidValueError("challenge", `accepts must be a list of at most ${MAX_ACCEPTS} entries`);
  return accepts.map((entry) => {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw new InvalidValueError("challenge", "An accepts entry is not an object");
    return entry as Record<string, unknown>;
  });
}

type ToOfferParameters = { accepted: Record<string, unknown>; version: 1 | 2; resource: unknown; caps: PaymentCaps };

/** One `accepts` entry as an offer, in the order the exact EVM scheme defines its fields. */
function toOffer({ accepted, version, resource, caps }: ToOfferParameters): OneTimeOffer | PaymentCapError | undefined {
  if (accepted.scheme !== "exact" || typeof accepted.network !== "string") return undefined;
  const chainId = x402ChainId(accepted.network, version);
  if (chainId === undefined) return undefined;
  const extra = accepted.extra ?? {};
  if (typeof extra !== "object" || extra === null || Array.isArray(extra)) throw new InvalidValueError("challenge", "extra must be an object");
  const { name, version: domainVersion, assetTransferMethod } = extra as Record<string, unknown>;
  if (assetTransferMethod !== undefined && assetTransferMethod !== "eip3009") return undefined;
  if (typeof name !== "string" || typeof domainVersion !== "string") throw new InvalidValueError("challenge", "extra must name the token's EIP-712 name and version");
  const amount = parseAmount(version === 2 ? accepted.amount : accepted.maxAmountRequired);
  const currency = parseAddress(accepted.asset);
  const recipient = parseAddress(accepted.payTo);
  const timeout = accepted.maxTimeoutSeconds;
  if (typeof timeout !== "number" || !Number.isSafeInteger(timeout) || timeout <= 0) throw new InvalidValueError("challenge", "maxTimeoutSeconds must be a positive integer");
  if (version === 1 && typeof accepted.resource !== "string") throw new InvalidValueError("challenge", "A v1 offer names its resource URL");
  const checked = caps.check({ chainId, currency, amount });
  if (checked instanceof PaymentCapError) return checked;
  return {
    method: "x402",
    x402Version: version,
    chainId,
    currency,
    amount,
    recipient,
    caps: checked,
    validUntil: Math.floor(Date.now() / 1000) + timeout,
    nonce: undefined,
    statedDomain: { name, version: domainVersion },
    credentialTypes: ["authorization"],
    credential: {
      authorization(authorization) {
        const payload = formatX402ExactPayload({ authorization, signature: authorization.signature });
        // v2 echoes the chosen requirements verbatim: the seller matches them field by field.
        return version === 2
          ? { name: x402Headers[2].payment, value: encodeX402Header({ x402Version: 2, resource, accepted, payload }) }
          : { name: x402Headers[1].payment, value: encodeX402Header({ x402Version: 1, scheme: "exact", network: accepted.network, payload }) };
      },
    },
    readReceipt: (response, payer) => readSettleResponse(response.headers.get(x402Headers[version].response), payer),
  };
}

/** The transaction a settle response claims, when it claims success for `payer`; a malformed one claims nothing. */
function readSettleResponse(header: string | null, payer: `0x${string}`): Hex | undefined {
  if (header === null) return undefined;
  try {
    const claim = decodeX402Json(header, "PAYMENT-RESPONSE");
    if (claim.success !== true || typeof claim.transaction !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(claim.transaction)) return undefined;
    if (typeof claim.payer === "string" && !isAddressEqual(getAddress(claim.payer), payer)) return undefined;
    return claim.transaction as Hex;
  } catch {
    return undefined;
  }
}

function guard<T>(read: () => T): T | Error {
  try {
    return read();
  } catch (error) {
    return asError(error);
  }
}

function asError(error: unknown): Error {
  if (error instanceof InvalidValueError || error instanceof PaymentCapError) return error;
  return new InvalidValueError("challenge", "Malformed x402 offer", { cause: error });
}
