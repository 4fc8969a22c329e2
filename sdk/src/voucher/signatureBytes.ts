import { hexToBytes } from "@noble/hashes/utils.js";
import type { Hex } from "viem";

/**
 * The bytes of a would-be 65-byte ECDSA signature, or null when it is not 65 bytes of hex (then it
 * can only be a contract wallet's signature). Never throws: bad input is a signature that fails.
 */
export function signatureBytes(signature: Hex): Uint8Array | null {
  if (typeof signature !== "string" || signature.length !== 132 || !signature.startsWith("0x")) return null;
  try {
    return hexToBytes(signature.slice(2));
  } catch {
    return null;
  }
}
