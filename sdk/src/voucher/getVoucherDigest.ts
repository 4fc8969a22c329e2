import { bytesToHex, type Hex } from "viem";
import { type VoucherFields, voucherDigestBytes } from "./voucherDigestBytes.js";

export type GetVoucherDigestParameters = VoucherFields;

/** The hash a voucher's signer signs, equal to the escrow's `getVoucherDigest(channelId, cumulativeAmount)`. */
export function getVoucherDigest(parameters: GetVoucherDigestParameters): Hex {
  return bytesToHex(voucherDigestBytes(parameters));
}
