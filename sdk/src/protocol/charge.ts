import { type Address, type Hex, keccak256, stringToHex } from "viem";
import { parseAddress } from "../encoding/parseAddress.js";
import { parseAmount } from "../encoding/parseAmount.js";
import { parseBytes32 } from "../encoding/parseBytes32.js";
import { parseHex } from "../encoding/parseHex.js";
import { parseSignatureHex } from "../encoding/parseSignatureHex.js";
import { InvalidValueError } from "../errors/InvalidValueError.js";
import type { PaymentChallenge } from "./challenge.js";
import { type ChargePermit2Payload, parseChargePermit2Payload } from "./permit2.js";
import { formatTransferAuthorization, type TransferAuthorization } from "./x402.js";

// The `evm` method's `charge` intent (tempoxyz/mpp-specs specs/methods/evm/draft-evm-charge-01.md):
// the request of its challenge and its credential payloads (one per credential type), both directions.

export type ChargeCredentialType = "permit2" | "authorization" | "transaction" | "hash";

/** The draft's "Request Schema", amounts in base units. */
export type ChargeRequest = {
  amount: bigint;
  /** The ERC-20 token. */
  currency: Address;
  recipient: Address;
  description?: string;
  externalId?: string;
  methodDetails: {
    chainId: number;
    /** Accepted credential types, preferred first. */
    credentialTypes: ChargeCredentialType[];
    decimals?: number;
    permit2Address?: Address;
  };
};

/** The `type="authorization"` payload: an EIP-3009 `transferWithAuthorization` signed by `from`. */
export type ChargeAuthorizationPayload = TransferAuthorization & { type: "authorization"; signature: Hex };

/** The `type="transaction"` payload: a signed EIP-1559 ERC-20 `transfer`, RLP-encoded, that the server broadcasts. */
export type ChargeTransactionPayload = { type: "transaction"; signature: Hex };

/** The `type="hash"` payload: the hash of an ERC-20 `transfer` the payer already broadcast. */
export type ChargeHashPayload = { type: "hash"; hash: Hex };

/** A credential's `payload`, by its `type` (the draft's "Credential Schema"). */
export type ChargePayload = ChargePermit2Payload | ChargeAuthorizationPayload | ChargeTransactionPayload | ChargeHashPayload;

const CREDENTIAL_TYPES: readonly ChargeCredentialType[] = ["permit2", "authorization", "transaction", "hash"];

/** Whether `value` is one of the draft's credential types. */
export function isChargeCredentialType(value: unknown): value is ChargeCredentialType {
  return CREDENTIAL_TYPES.includes(value as ChargeCredentialType);
}

/** The request object of a challenge (encode it with `encodeChallengeRequest`). */
export function formatChargeRequest({ amount, methodDetails, ...rest }: ChargeRequest): Record<string, unknown> {
  return { ...rest, amount: amount.toString(), methodDetails };
}

/** Parses a challenge's decoded request (the client's direction). */
export function parseChargeRequest(value: Record<string, unknown>): ChargeRequest {
  const details = value.methodDetails;
  if (typeof details !== "object" || details === null || Array.isArray(details)) throw invalid("`methodDetails` is not an object");
  const { chainId, credentialTypes = ["transaction", "hash"], decimals, permit2Address } = details as Record<string, unknown>;
  if (typeof chainId !== "number" || !Number.isSafeInteger(chainId) || chainId <= 0) throw invalid("`chainId` is not a positive integer");
  if (!Array.isArray(credentialTypes) || credentialTypes.length === 0 || !credentialTypes.every((type) => CREDENTIAL_TYPES.includes(type))) {
    throw invalid("`credentialTypes` is not a list of known types");
  }
  if (decimals !== undefined && (typeof decimals !== "number" || !Number.isInteger(decimals) || decimals < 0 || decimals > 36)) throw invalid("`decimals` is out of range");
  return {
    amount: parseAmount(value.amount),
    currency: parseAddress(value.currency),
    recipient: parseAddress(value.recipient),
    ...(typeof value.description === "string" ? { description: value.description } : {}),
    ...(typeof value.externalId === "string" ? { externalId: value.externalId } : {}),
    methodDetails: {
      chainId,
      credentialTypes: credentialTypes as ChargeCredentialType[],
      ...(decimals === undefined ? {} : { decimals: decimals as number }),
      ...(permit2Address === undefined ? {} : { permit2Address: parseAddress(permit2Address) }),
    },
  };
}

/** The credential's `payload` member (the client's direction). */
export function formatChargeAuthorizationPayload({ type: _type, signature, ...authorization }: ChargeAuthorizationPayload): Record<string, string> {
  return { type: "authorization", ...formatTransferAuthorization(authorization), signature };
}

/**
 * Parses a credential's `payload` (the server's direction) by its `type`. A type this toolkit cannot
 * read, or none, is malformed; whether the challenge offered the type is the server's check.
 */
export function parseChargePayload(value: unknown): ChargePayload {
  const fields = payloadFields(value);
  switch (fields.type) {
    case "permit2":
      return parseChargePermit2Payload(fields);
    case "authorization":
      return parseChargeAuthorizationPayload(fields);
    case "transaction":
      return parseChargeTransactionPayload(fields);
    case "hash":
      return parseChargeHashPayload(fields);
    default:
      throw invalid("`type` is not a credential type this server reads");
  }
}

/** The credential's `payload` member for a `transaction` or `hash` credential (the client's direction). */
export function formatChargeTransferPayload(payload: ChargeTransactionPayload | ChargeHashPayload): Record<string, string> {
  return { ...payload };
}

/** Parses a `type="transaction"` payload; the transaction inside is the verifier's to decode. */
export function parseChargeTransactionPayload(value: unknown): ChargeTransactionPayload {
  const fields = payloadFields(value);
  if (fields.type !== "transaction") throw invalid('`type` is not "transaction"');
  const signature = parseHex(fields.signature);
  // An EIP-1559 transaction is the type byte 0x02 followed by its RLP list.
  if (!signature.startsWith("0x02") || signature.length < 8) throw invalid("`signature` is not a signed EIP-1559 transaction");
  return { type: "transaction", signature };
}

/** Parses a `type="hash"` payload. */
export function parseChargeHashPayload(value: unknown): ChargeHashPayload {
  const fields = payloadFields(value);
  if (fields.type !== "hash") throw invalid('`type` is not "hash"');
  return { type: "hash", hash: parseBytes32(fields.hash) };
}

/** Parses a credential's `payload` (the server's direction); only `type="authorization"` is accepted here. */
export function parseChargeAuthorizationPayload(value: unknown): ChargeAuthorizationPayload {
  const fields = payloadFields(value);
  if (fields.type !== "authorization") throw invalid("`type` is not \"authorization\"");
  return {
    type: "authorization",
    from: parseAddress(fields.from),
    to: parseAddress(fields.to),
    value: parseAmount(fields.value),
    validAfter: parseUint(fields.validAfter, "validAfter"),
    validBefore: parseUint(fields.validBefore, "validBefore"),
    nonce: parseBytes32(fields.nonce),
    signature: parseSignatureHex(fields.signature),
  };
}

/** The draft's challenge binding: `keccak256(abi.encodePacked(challenge.id, challenge.realm))`, the EIP-3009 nonce. */
export function chargeChallengeHash(challenge: Pick<PaymentChallenge, "id" | "realm">): Hex {
  return keccak256(stringToHex(`${challenge.id}${challenge.realm}`));
}

function parseUint(value: unknown, what: string): bigint {
  if (typeof value !== "string" || !/^(?:0|[1-9][0-9]{0,19})$/.test(value)) throw new InvalidValueError("amount", `\`${what}\` is not a canonical decimal timestamp`);
  return BigInt(value);
}

function payloadFields(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid("the payload is not a JSON object");
  return value as Record<string, unknown>;
}

function invalid(message: string): InvalidValueError {
  return new InvalidValueError("request", `Malformed charge: ${message}`);
}
