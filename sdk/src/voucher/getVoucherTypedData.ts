import type { Hex } from "viem";
import { assertUint128 } from "../encoding/assertUint128.js";
import { parseBytes32 } from "../encoding/parseBytes32.js";
import { getVoucherDomain, type GetVoucherDomainReturnType } from "./getVoucherDomain.js";
import type { VoucherFields } from "./voucherDigestBytes.js";
import { voucherTypes } from "./voucherTypes.js";

export type GetVoucherTypedDataParameters = VoucherFields;

export type GetVoucherTypedDataReturnType = {
  domain: GetVoucherDomainReturnType;
  types: typeof voucherTypes;
  primaryType: "Voucher";
  message: { channelId: Hex; cumulativeAmount: bigint };
};

/** The full EIP-712 typed data of a voucher, for wallets' `signTypedData` (eth_signTypedData_v4). */
export function getVoucherTypedData({
  chainId,
  escrow,
  channelId,
  cumulativeAmount,
}: GetVoucherTypedDataParameters): GetVoucherTypedDataReturnType {
  assertUint128(cumulativeAmount);
  return {
    domain: getVoucherDomain({ chainId, escrow }),
    types: voucherTypes,
    primaryType: "Voucher",
    message: { channelId: parseBytes32(channelId), cumulativeAmount },
  };
}
