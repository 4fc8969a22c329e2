import { type Address, bytesToHex, getAddress, type Hex } from "viem";
import { addressOf, recoverPublicKey } from "../crypto/recoverPublicKey.js";
import type { Secp256k1Backend } from "../crypto/Secp256k1Backend.js";
import { signatureBytes } from "./signatureBytes.js";
import { type VoucherFields, voucherDigestBytes } from "./voucherDigestBytes.js";

export type RecoverVoucherSignerParameters = VoucherFields & {
  signature: Hex;
  /** Defaults to `"auto"`: libsecp256k1 when the optional `secp256k1` package loads, else @noble/curves. */
  secp256k1?: Secp256k1Backend | undefined;
};

/** The signer's address, or null when the escrow's ECDSA path would reject the signature. */
export type RecoverVoucherSignerReturnType = Address | null;

/**
 * Recovers the EOA that signed a voucher, without RPC, under the escrow's rules: 65 bytes, v 27 or 28,
 * low s, 0 < r < n. Throws only for malformed voucher fields, never for a bad signature.
 */
export function recoverVoucherSigner({
  signature,
  secp256k1,
  ...voucher
}: RecoverVoucherSignerParameters): RecoverVoucherSignerReturnType {
  const digest = voucherDigestBytes(voucher);
  const bytes = signatureBytes(signature);
  const publicKey = bytes === null ? null : recoverPublicKey(digest, bytes, secp256k1);
  return publicKey === null ? null : getAddress(bytesToHex(addressOf(publicKey)));
}
