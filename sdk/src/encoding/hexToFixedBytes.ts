import { hexToBytes } from "@noble/hashes/utils.js";
import { InvalidValueError, type InvalidValueKind } from "../errors/InvalidValueError.js";

/**
 * Decodes `0x`-prefixed hex of exactly `length` bytes without a round trip through viem's general
 * converters (this sits on the voucher verification hot path).
 */
export function hexToFixedBytes(hex: string, length: number, kind: InvalidValueKind): Uint8Array {
  if (typeof hex !== "string" || hex.length !== 2 + 2 * length || !hex.startsWith("0x")) {
    throw new InvalidValueError(kind, `Expected ${length} bytes of 0x-prefixed hex`);
  }
  try {
    return hexToBytes(hex.slice(2));
  } catch (cause) {
    throw new InvalidValueError(kind, `Expected ${length} bytes of 0x-prefixed hex`, { cause });
  }
}
