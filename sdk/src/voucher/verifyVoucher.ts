import { type Address, bytesToHex, type Client, type Hex } from "viem";
import { isValidErc1271Signature } from "../crypto/isValidErc1271Signature.js";
import { recoverAddress } from "../crypto/recoverAddress.js";
import type { Secp256k1Backend } from "../crypto/Secp256k1Backend.js";
import { hexToFixedBytes } from "../encoding/hexToFixedBytes.js";
import { signatureBytes } from "./signatureBytes.js";
import { type VoucherFields, voucherDigestBytes } from "./voucherDigestBytes.js";

export type VerifyVoucherParameters = VoucherFields & {
  signature: Hex;
  /** The channel's expected signer; see getVoucherSigner. */
  signer: Address;
  /** Enables ERC-1271: without it only EOA signatures can verify, with no RPC at all. */
  client?: Client | undefined;
  /** Defaults to `"auto"`: libsecp256k1 when the optional `secp256k1` package loads, else @noble/curves. */
  secp256k1?: Secp256k1Backend | undefined;
};

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether the escrow would accept `signature` for this voucher from `signer`: ECDSA first (65 bytes,
 * v 27/28, low s, recovering to `signer`), then, given a `client`, ERC-1271 `isValidSignature` on the
 * signer. Resolves false for any signature that does not verify; throws InvalidValueError for
 * malformed voucher fields and RpcError when the wallet could not be asked.
 */
export async function verifyVoucher({
  signature,
  signer,
  client,
  secp256k1,
  ...voucher
}: VerifyVoucherParameters): Promise<boolean> {
  const digest = voucherDigestBytes(voucher);
  const expected = hexToFixedBytes(signer, 20, "address");
  const bytes = signatureBytes(signature);
  const recovered = bytes === null ? null : recoverAddress(digest, bytes, secp256k1);
  if (recovered !== null && equalBytes(recovered, expected)) return true;
  if (client === undefined) return false;
  return isValidErc1271Signature({ client, signer, hash: bytesToHex(digest), signature });
}
