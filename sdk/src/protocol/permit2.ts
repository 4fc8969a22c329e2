import { type Address, type Hex, hashStruct } from "viem";
import { parseAddress } from "../encoding/parseAddress.js";
import { parseAmount } from "../encoding/parseAmount.js";
import { parseBytes32 } from "../encoding/parseBytes32.js";
import { parseSignatureHex } from "../encoding/parseSignatureHex.js";
import { InvalidValueError } from "../errors/InvalidValueError.js";

// The `evm` charge draft's `type="permit2"` credential (sections "Permit2 Payload" and "Witness Data"):
// the payload both directions, and the EIP-712 data a payer signs and Permit2 checks.

/** The draft's Permit2 payload, numbers as bigints. `permitted` and `transferDetails` pair up by index. */
export type ChargePermit2Payload = {
  type: "permit2";
  permit: { permitted: { token: Address; amount: bigint }[]; nonce: bigint; deadline: bigint };
  transferDetails: { to: Address; requestedAmount: bigint }[];
  witness: PaymentWitness;
  signature: Hex;
};

/** The draft's `PaymentWitness`: the challenge the permit pays, and its `externalId` ("" when the request has none). */
export type PaymentWitness = { challengeHash: Hex; externalId: string };

/** Permit2's EIP-712 domain: no version, the chain and Permit2's own address. */
export type Permit2Domain = { name: "Permit2"; chainId: number; verifyingContract: Address };

export function permit2Domain({ chainId, permit2 }: { chainId: number; permit2: Address }): Permit2Domain {
  return { name: "Permit2", chainId, verifyingContract: permit2 };
}

const paymentWitnessFields = [
  { name: "challengeHash", type: "bytes32" },
  { name: "externalId", type: "string" },
] as const;

/**
 * The EIP-712 types of a single-transfer permit with the payment witness. The draft prints the witness
 * type with a space (`bytes32 challengeHash, string externalId`), which EIP-712's encodeType never
 * produces and so no wallet can sign; this is the canonical encoding of the same struct.
 */
export const permitWitnessTransferFromTypes = {
  PermitWitnessTransferFrom: [
    { name: "permitted", type: "TokenPermissions" },
    { name: "spender", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
    { name: "witness", type: "PaymentWitness" },
  ],
  TokenPermissions: [
    { name: "token", type: "address" },
    { name: "amount", type: "uint256" },
  ],
  PaymentWitness: paymentWitnessFields,
} as const;

/** What Permit2 appends to its `PermitWitnessTransferFrom(…,` stub: the witness member and the referenced types, sorted. */
export const PAYMENT_WITNESS_TYPE_STRING = "PaymentWitness witness)PaymentWitness(bytes32 challengeHash,string externalId)TokenPermissions(address token,uint256 amount)";

/** The `witness` argument of `permitWitnessTransferFrom`: the witness struct's EIP-712 hash. */
export function hashPaymentWitness(witness: PaymentWitness): Hex {
  return hashStruct({ types: { PaymentWitness: paymentWitnessFields }, primaryType: "PaymentWitness", data: witness });
}

/** The typed data of a single-transfer payload (the draft's only form without splits), signed by the owner for `spender`. */
export function permit2TypedData({ payload, spender, domain }: { payload: ChargePermit2Payload; spender: Address; domain: Permit2Domain }) {
  const [permitted] = payload.permit.permitted;
  if (payload.permit.permitted.length !== 1 || !permitted) throw new InvalidValueError("request", "Only single-transfer permits are signed here");
  return {
    domain,
    types: permitWitnessTransferFromTypes,
    primaryType: "PermitWitnessTransferFrom" as const,
    message: { permitted, spender, nonce: payload.permit.nonce, deadline: payload.permit.deadline, witness: payload.witness },
  };
}

/** The credential's `payload` member (the client's direction). The witness's `externalId` is sent only when not empty, as in the draft's examples. */
export function formatChargePermit2Payload({ permit, transferDetails, witness, signature }: ChargePermit2Payload): Record<string, unknown> {
  return {
    type: "permit2",
    permit: {
      permitted: permit.permitted.map(({ token, amount }) => ({ token, amount: amount.toString() })),
      nonce: permit.nonce.toString(),
      deadline: permit.deadline.toString(),
    },
    transferDetails: transferDetails.map(({ to, requestedAmount }) => ({ to, requestedAmount: requestedAmount.toString() })),
    witness: { challengeHash: witness.challengeHash, ...(witness.externalId === "" ? {} : { externalId: witness.externalId }) },
    signature,
  };
}

/** Parses a credential's `payload` of `type="permit2"` (the server's direction): shapes only, the checks are the verifier's. */
export function parseChargePermit2Payload(value: unknown): ChargePermit2Payload {
  const fields = object(value, "the payload");
  if (fields.type !== "permit2") throw invalid('`type` is not "permit2"');
  const permit = object(fields.permit, "`permit`");
  const witness = object(fields.witness, "`witness`");
  if (witness.externalId !== undefined && typeof witness.externalId !== "string") throw invalid("`witness.externalId` is not a string");
  return {
    type: "permit2",
    permit: {
      permitted: list(permit.permitted, "`permit.permitted`").map((entry) => {
        const { token, amount } = object(entry, "a `permitted` entry");
        return { token: parseAddress(token), amount: parseAmount(amount) };
      }),
      nonce: parseUint256(permit.nonce, "permit.nonce"),
      deadline: parseUint256(permit.deadline, "permit.deadline"),
    },
    transferDetails: list(fields.transferDetails, "`transferDetails`").map((entry) => {
      const { to, requestedAmount } = object(entry, "a `transferDetails` entry");
      return { to: parseAddress(to), requestedAmount: parseAmount(requestedAmount) };
    }),
    witness: { challengeHash: parseBytes32(witness.challengeHash), externalId: (witness.externalId as string | undefined) ?? "" },
    signature: parseSignatureHex(fields.signature),
  };
}

/** The payer a `did:pkh:eip155:<chainId>:<address>` source names on `chainId` (Permit2 payloads carry no owner field). */
export function parsePkhSource(source: string | undefined, chainId: number): Address {
  const match = source === undefined ? null : /^did:pkh:eip155:([0-9]+):(0x[0-9a-fA-F]{40})$/.exec(source);
  if (!match || Number(match[1]) !== chainId) throw invalid(`\`source\` must be did:pkh:eip155:${chainId}:<payer address>`);
  return parseAddress(match[2]);
}

const UINT256_DECIMAL = /^(?:0|[1-9][0-9]{0,77})$/;

function parseUint256(value: unknown, what: string): bigint {
  if (typeof value !== "string" || !UINT256_DECIMAL.test(value) || BigInt(value) >= 2n ** 256n) throw invalid(`\`${what}\` is not a canonical decimal uint256`);
  return BigInt(value);
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function list(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 11) throw invalid(`${what} is not a list of 1 to 11 entries`);
  return value;
}

function invalid(message: string): InvalidValueError {
  return new InvalidValueError("request", `Malformed permit2 payload: ${message}`);
}
