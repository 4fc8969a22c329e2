import type { Hex, LocalAccount } from "viem";
import { getVoucherTypedData } from "./getVoucherTypedData.js";
import type { VoucherFields } from "./voucherDigestBytes.js";

export type SignVoucherParameters = VoucherFields & {
  /** The channel's signer: its `authorizedSigner`, or the payer when that is zero. */
  account: LocalAccount;
};

/** 65-byte `r || s || v` signature, v 27 or 28, s low (viem's signer normalizes s). */
export type SignVoucherReturnType = Hex;

/** Signs a voucher authorizing the payee to collect up to `cumulativeAmount` in total from the channel. */
export async function signVoucher({ account, ...voucher }: SignVoucherParameters): Promise<SignVoucherReturnType> {
  return account.signTypedData(getVoucherTypedData(voucher));
}
