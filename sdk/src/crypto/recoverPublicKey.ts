import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToNumberBE } from "@noble/curves/abstract/utils.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { TollgateError } from "../errors/TollgateError.js";
import { loadNativeSecp256k1 } from "./loadNativeSecp256k1.js";
import type { Secp256k1Backend } from "./Secp256k1Backend.js";

// secp256k1 group order n and n / 2, big-endian. A signature with s > n / 2 is the malleable twin of
// a valid one; the escrow (VoucherSignature.recover) rejects it, so the SDK does too.
const N = hexToBytes("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
const HALF_N = hexToBytes("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0");

/** Whether the 32 bytes at `offset` are at most `limit` (strictly below it with `strict`). */
function isAtMost(bytes: Uint8Array, offset: number, limit: Uint8Array, strict: boolean): boolean {
  for (let i = 0; i < 32; i++) {
    const byte = bytes[offset + i] as number;
    const bound = limit[i] as number;
    if (byte !== bound) return byte < bound;
  }
  return !strict;
}

function isZero(bytes: Uint8Array, offset: number): boolean {
  for (let i = offset; i < offset + 32; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * The escrow's acceptance rules for an ECDSA signature, checked before any curve arithmetic:
 * exactly 65 bytes `r || s || v`, v of 27 or 28, 0 < r < n, 0 < s <= n / 2. Returns the recovery
 * bit, or -1 when the signature can never verify.
 */
function recoveryBit(signature: Uint8Array): number {
  if (signature.length !== 65) return -1;
  const v = signature[64] as number;
  if (v !== 27 && v !== 28) return -1;
  if (isZero(signature, 0) || !isAtMost(signature, 0, N, true)) return -1;
  if (isZero(signature, 32) || !isAtMost(signature, 32, HALF_N, false)) return -1;
  return v - 27;
}

/** The address of a 65-byte uncompressed public key: the last 20 bytes of keccak256(x || y). */
export function addressOf(uncompressedPublicKey: Uint8Array): Uint8Array {
  return keccak_256(uncompressedPublicKey.subarray(1)).subarray(12);
}

function recoverWithNative(hash: Uint8Array, signature: Uint8Array, bit: number): Uint8Array | null {
  const native = loadNativeSecp256k1();
  if (native === null) throw new TollgateError("NATIVE_UNAVAILABLE", "The native secp256k1 backend is not available");
  try {
    return native.ecdsaRecover(signature.subarray(0, 64), bit, hash, false);
  } catch {
    // libsecp256k1 throws when r is not the x coordinate of a curve point.
    return null;
  }
}

function recoverWithNoble(hash: Uint8Array, signature: Uint8Array, bit: number): Uint8Array | null {
  try {
    const r = bytesToNumberBE(signature.subarray(0, 32));
    const s = bytesToNumberBE(signature.subarray(32, 64));
    return new secp256k1.Signature(r, s).addRecoveryBit(bit).recoverPublicKey(hash).toRawBytes(false);
  } catch {
    return null;
  }
}

/** The backend `"auto"` resolves to on this machine. */
export function resolveSecp256k1Backend(backend: Secp256k1Backend = "auto"): "native" | "js" {
  if (backend !== "auto") return backend;
  return loadNativeSecp256k1() === null ? "js" : "native";
}

/**
 * Recovers the uncompressed public key (65 bytes) that signed the 32-byte `hash`, applying exactly
 * the escrow's rules; null for any signature the escrow's ECDSA path would not accept.
 */
export function recoverPublicKey(hash: Uint8Array, signature: Uint8Array, backend?: Secp256k1Backend): Uint8Array | null {
  const bit = recoveryBit(signature);
  if (bit < 0) return null;
  return resolveSecp256k1Backend(backend) === "native"
    ? recoverWithNative(hash, signature, bit)
    : recoverWithNoble(hash, signature, bit);
}
