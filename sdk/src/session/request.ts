import type { Address, Hex } from "viem";
import { InvalidValueError } from "../errors/InvalidValueError.js";
import { parseAddress } from "../encoding/parseAddress.js";
import { parseAmount } from "../encoding/parseAmount.js";
import { parseBytes32 } from "../encoding/parseBytes32.js";
import type { CredentialType } from "./payload.js";

/** The `request` of an `evm` `session` challenge, with typed values. */
export type SessionRequest = {
  /** Price per unit in base units. */
  amount: bigint;
  unitType?: string;
  suggestedDeposit?: bigint;
  /** ERC-20 token. */
  currency: Address;
  /** Payee: the server's withdrawal address. */
  recipient: Address;
  description?: string;
  externalId?: string;
  methodDetails: {
    chainId: number;
    escrowContract: Address;
    channelId?: Hex;
    minVoucherDelta?: bigint;
    feePayer?: boolean;
    credentialTypes?: CredentialType[];
  };
};

/** The wire object of a session request (amounts as decimal strings), ready for JCS and base64url. */
export function formatSessionRequest(request: SessionRequest): Record<string, unknown> {
  return JSON.parse(JSON.stringify(request, (_key, value) => (typeof value === "bigint" ? value.toString() : value)));
}

/** Validates a decoded session request; a client calls this before trusting any of its values. */
export function parseSessionRequest(value: Record<string, unknown>): SessionRequest {
  const details = value.methodDetails;
  if (typeof details !== "object" || details === null || Array.isArray(details)) {
    throw new InvalidValueError("challenge", "The session request has no methodDetails");
  }
  const d = details as Record<string, unknown>;
  if (typeof d.chainId !== "number" || !Number.isSafeInteger(d.chainId) || d.chainId <= 0) {
    throw new InvalidValueError("chainId", "methodDetails.chainId must be a positive integer");
  }
  const optionalString = (name: string) => {
    const field = value[name];
    if (field === undefined) return {};
    if (typeof field !== "string") throw new InvalidValueError("challenge", `${name} must be a string`);
    return { [name]: field };
  };
  const credentialTypes = d.credentialTypes;
  if (
    credentialTypes !== undefined &&
    (!Array.isArray(credentialTypes) || !credentialTypes.every((type) => typeof type === "string"))
  ) {
    throw new InvalidValueError("challenge", "methodDetails.credentialTypes must be a list of strings");
  }
  if (d.feePayer !== undefined && typeof d.feePayer !== "boolean") {
    throw new InvalidValueError("challenge", "methodDetails.feePayer must be a boolean");
  }
  return {
    amount: parseAmount(value.amount),
    ...optionalString("unitType"),
    ...(value.suggestedDeposit === undefined ? {} : { suggestedDeposit: parseAmount(value.suggestedDeposit) }),
    currency: parseAddress(value.currency),
    recipient: parseAddress(value.recipient),
    ...optionalString("description"),
    ...optionalString("externalId"),
    methodDetails: {
      chainId: d.chainId,
      escrowContract: parseAddress(d.escrowContract),
      ...(d.channelId === undefined ? {} : { channelId: parseBytes32(d.channelId) }),
      ...(d.minVoucherDelta === undefined ? {} : { minVoucherDelta: parseAmount(d.minVoucherDelta) }),
      ...(d.feePayer === undefined ? {} : { feePayer: d.feePayer }),
      // Types this toolkit cannot produce (e.g. permit2) are dropped; an empty list means none is usable.
      ...(credentialTypes === undefined
        ? {}
        : { credentialTypes: (credentialTypes as string[]).filter((t): t is CredentialType => t === "hash" || t === "authorization") }),
    },
  } as SessionRequest;
}
