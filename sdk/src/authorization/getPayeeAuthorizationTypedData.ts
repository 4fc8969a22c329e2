import type { Hex } from "viem";
import { assertUint128 } from "../encoding/assertUint128.js";
import { parseBytes32 } from "../encoding/parseBytes32.js";
import {
  getVoucherDomain,
  type GetVoucherDomainParameters,
  type GetVoucherDomainReturnType,
} from "../voucher/getVoucherDomain.js";

const fields = [
  { name: "channelId", type: "bytes32" },
  { name: "cumulativeAmount", type: "uint128" },
  { name: "nonce", type: "uint256" },
  { name: "deadline", type: "uint256" },
] as const;

/** Which relayed payee call the authorization is for. */
export type PayeeAuthorizationKind = "settle" | "close";

const primaryTypes = { settle: "SettleAuthorization", close: "CloseAuthorization" } as const;

export type PayeeAuthorizationFields = GetVoucherDomainParameters & {
  channelId: Hex;
  cumulativeAmount: bigint;
  /** Any value the payee has not used for this channel; settle and close share one set of nonces. */
  nonce: bigint;
  /** Unix seconds after which the escrow rejects the authorization. */
  deadline: bigint;
};

export type GetPayeeAuthorizationTypedDataParameters = PayeeAuthorizationFields & { kind: PayeeAuthorizationKind };

export type GetPayeeAuthorizationTypedDataReturnType = {
  domain: GetVoucherDomainReturnType;
  types: { [primaryType in (typeof primaryTypes)[PayeeAuthorizationKind]]?: typeof fields };
  primaryType: (typeof primaryTypes)[PayeeAuthorizationKind];
  message: { channelId: Hex; cumulativeAmount: bigint; nonce: bigint; deadline: bigint };
};

/**
 * EIP-712 typed data of a payee's `SettleAuthorization` or `CloseAuthorization` (EscrowHashes), signed
 * under the vouchers' domain; it lets any relayer submit `settleWithAuthorization` / `closeWithAuthorization`.
 */
export function getPayeeAuthorizationTypedData({
  kind,
  chainId,
  escrow,
  channelId,
  cumulativeAmount,
  nonce,
  deadline,
}: GetPayeeAuthorizationTypedDataParameters): GetPayeeAuthorizationTypedDataReturnType {
  assertUint128(cumulativeAmount);
  const primaryType = primaryTypes[kind];
  return {
    domain: getVoucherDomain({ chainId, escrow }),
    types: { [primaryType]: fields },
    primaryType,
    message: { channelId: parseBytes32(channelId), cumulativeAmount, nonce, deadline },
  };
}
