import { type Address, bytesToHex, type Client, type Hex } from "viem";
import { isSignedBy } from "../crypto/isSignedBy.js";
import { isValidErc1271Signature } from "../crypto/isValidErc1271Signature.js";
import type { Secp256k1Backend } from "../crypto/Secp256k1Backend.js";
import { InvalidValueError } from "../errors/InvalidValueError.js";
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

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/**
 * Whether the escrow would accept `signature` for this voucher from `signer`: ECDSA first (65 bytes,
 * v 27/28, low s, recovering to `signer`), then, given a `client`, ERC-1271 `isValidSignature` on the
 * signer. Resolves false for any signature that does not verify; throws InvalidValueError for
 * malformed voucher fields or signer and RpcError when the wallet could not be asked.
 */
export async function verifyVoucher({
  signature,
  signer,
  client,
  secp256k1,
  ...voucher
}: VerifyVoucherParameters): Promise<boolean> {
  const digest = voucherDigestBytes(voucher);
  if (typeof signer !== "string" || !ADDRESS.test(signer)) throw new InvalidValueError("address", "Expected the signer's address");
  const bytes = signatureBytes(signature);
  if (bytes !== null && isSignedBy(digest, bytes, signer, secp256k1)) return true;
  if (client === undefined) return false;
  return isValidErc1271Signature({ client, signer, hash: bytesToHex(digest), signature });
}
