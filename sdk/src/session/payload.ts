import type { Address, Hex } from "viem";
import { maxUint256 } from "viem";
import { parseAddress } from "../encoding/parseAddress.js";
import { parseAmount } from "../encoding/parseAmount.js";
import { parseBytes32 } from "../encoding/parseBytes32.js";
import { parseSignatureHex } from "../encoding/parseSignatureHex.js";
import { PaymentProblemError } from "../protocol/problems.js";

/** EIP-3009 `receiveWithAuthorization` parameters, as the payer signed them. */
export type Eip3009Authorization = {
  from: Address;
  to: Address;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
};

export type OpenHashPayload = {
  action: "open";
  type: "hash";
  channelId: Hex;
  hash: Hex;
  cumulativeAmount: bigint;
  signature: Hex;
  authorizedSigner?: Address;
  salt: Hex;
};

export type OpenAuthorizationPayload = {
  action: "open";
  type: "authorization";
  channelId: Hex;
  authorization: Eip3009Authorization;
  signature: Hex;
  cumulativeAmount: bigint;
  voucherSignature: Hex;
  authorizedSigner?: Address;
  salt: Hex;
};

export type TopUpHashPayload = {
  action: "topUp";
  type: "hash";
  channelId: Hex;
  hash: Hex;
  additionalDeposit: bigint;
};

export type TopUpAuthorizationPayload = {
  action: "topUp";
  type: "authorization";
  channelId: Hex;
  /** Passed to the escrow as `topUpSalt`. */
  salt: Hex;
  authorization: Eip3009Authorization;
  signature: Hex;
  additionalDeposit: bigint;
};

/** The `deposit` extension of a voucher: funding and voucher in one round trip. */
export type DepositExtension =
  | { action: "open"; type: "authorization"; authorization: Eip3009Authorization; signature: Hex; salt: Hex; authorizedSigner?: Address }
  | { action: "topUp"; type: "authorization"; authorization: Eip3009Authorization; signature: Hex; salt: Hex };

export type VoucherPayload = {
  action: "voucher";
  channelId: Hex;
  cumulativeAmount: bigint;
  signature: Hex;
  deposit?: DepositExtension;
};

export type ClosePayload = {
  action: "close";
  channelId: Hex;
  cumulativeAmount: bigint;
  signature: Hex;
};

export type SessionPayload =
  | OpenHashPayload
  | OpenAuthorizationPayload
  | TopUpHashPayload
  | TopUpAuthorizationPayload
  | VoucherPayload
  | ClosePayload;

/** The credential types this toolkit's escrow backs (no Permit2 variants). */
export const SUPPORTED_CREDENTIAL_TYPES = ["hash", "authorization"] as const;
export type CredentialType = (typeof SUPPORTED_CREDENTIAL_TYPES)[number];

/**
 * Validates a session payload from the wire into typed values (bigint amounts, checksummed addresses,
 * lowercase hex). Anything missing or malformed raises a `malformed-credential` problem naming the field.
 */
export function parseSessionPayload(payload: Record<string, unknown>): SessionPayload {
  const read = reader(payload, "payload");
  const action = read.string("action");
  switch (action) {
    case "open": {
      const type = read.credentialType();
      const common = {
        action,
        channelId: read.bytes32("channelId"),
        cumulativeAmount: read.amount("cumulativeAmount"),
        salt: read.bytes32("salt"),
        ...read.optionalAddress("authorizedSigner"),
      } as const;
      if (type === "hash") {
        return { ...common, type, hash: read.bytes32("hash"), signature: read.signature("signature") };
      }
      return {
        ...common,
        type,
        authorization: read.authorization("authorization"),
        signature: read.signature("signature"),
        voucherSignature: read.signature("voucherSignature"),
      };
    }
    case "topUp": {
      const type = read.credentialType();
      const common = { action, channelId: read.bytes32("channelId"), additionalDeposit: read.amount("additionalDeposit") } as const;
      if (type === "hash") return { ...common, type, hash: read.bytes32("hash") };
      const authorization = read.authorization("authorization");
      if (authorization.value !== common.additionalDeposit) {
        throw malformed("payload.additionalDeposit differs from payload.authorization.value");
      }
      return { ...common, type, salt: read.bytes32("salt"), authorization, signature: read.signature("signature") };
    }
    case "voucher": {
      const voucher: VoucherPayload = {
        action,
        channelId: read.bytes32("channelId"),
        cumulativeAmount: read.amount("cumulativeAmount"),
        signature: read.signature("signature"),
      };
      if (payload.deposit === undefined) return voucher;
      return { ...voucher, deposit: parseDeposit(read.object("deposit")) };
    }
    case "close":
      return {
        action,
        channelId: read.bytes32("channelId"),
        cumulativeAmount: read.amount("cumulativeAmount"),
        signature: read.signature("signature"),
      };
    default:
      throw malformed(`payload.action ${JSON.stringify(action)} is not open, topUp, voucher or close`);
  }
}

function parseDeposit(deposit: Record<string, unknown>): DepositExtension {
  const read = reader(deposit, "payload.deposit");
  const action = read.string("action");
  if (action !== "open" && action !== "topUp") throw malformed("payload.deposit.action must be open or topUp");
  const type = read.credentialType();
  if (type !== "authorization") throw malformed("payload.deposit.type must be authorization");
  const common = {
    type,
    authorization: read.authorization("authorization"),
    signature: read.signature("signature"),
    salt: read.bytes32("salt"),
  } as const;
  return action === "open" ? { action, ...common, ...read.optionalAddress("authorizedSigner") } : { action, ...common };
}

/** The wire form of a payload: amounts as decimal strings, everything else unchanged. */
export function formatSessionPayload(payload: SessionPayload): Record<string, unknown> {
  return JSON.parse(JSON.stringify(payload, (_key, value) => (typeof value === "bigint" ? value.toString() : value)));
}

function reader(object: Record<string, unknown>, path: string) {
  const field = <T>(name: string, parse: (value: unknown) => T): T => {
    if (object[name] === undefined) throw malformed(`${path}.${name} is missing`);
    try {
      return parse(object[name]);
    } catch (cause) {
      throw malformed(`${path}.${name} is invalid`, cause);
    }
  };
  return {
    string: (name: string) =>
      field(name, (value) => {
        if (typeof value !== "string") throw new TypeError("not a string");
        return value;
      }),
    object: (name: string) =>
      field(name, (value) => {
        if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TypeError("not an object");
        return value as Record<string, unknown>;
      }),
    bytes32: (name: string) => field(name, parseBytes32),
    amount: (name: string) => field(name, parseAmount),
    signature: (name: string) => field(name, parseSignatureHex),
    optionalAddress: (name: string): { authorizedSigner?: Address } =>
      object[name] === undefined ? {} : { authorizedSigner: field(name, parseAddress) },
    credentialType: (): CredentialType => {
      const type = field("type", (value) => value);
      if (type === "hash" || type === "authorization") return type;
      throw malformed(`${path}.type ${JSON.stringify(type)} is not supported (accepted: hash, authorization)`);
    },
    authorization: (name: string): Eip3009Authorization => {
      const inner = reader(
        field(name, (value) => {
          if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TypeError("not an object");
          return value as Record<string, unknown>;
        }),
        `${path}.${name}`,
      );
      return {
        from: inner.address("from"),
        to: inner.address("to"),
        value: inner.amount("value"),
        validAfter: inner.uint256("validAfter"),
        validBefore: inner.uint256("validBefore"),
        nonce: inner.bytes32("nonce"),
      };
    },
    address: (name: string) => field(name, parseAddress),
    uint256: (name: string) => field(name, parseUint256),
  };
}

const CANONICAL_DECIMAL = /^(?:0|[1-9][0-9]{0,77})$/;

function parseUint256(value: unknown): bigint {
  if (typeof value !== "string" || !CANONICAL_DECIMAL.test(value)) throw new TypeError("not a canonical decimal");
  const number = BigInt(value);
  if (number > maxUint256) throw new RangeError("exceeds uint256");
  return number;
}

function malformed(detail: string, cause?: unknown) {
  return new PaymentProblemError("malformed-credential", { detail, cause });
}
