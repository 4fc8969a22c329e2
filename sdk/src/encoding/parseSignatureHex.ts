import type { Hex } from "viem";
import { InvalidValueError } from "../errors/InvalidValueError.js";
import { parseHex } from "./parseHex.js";

/**
 * Parses a signature in the spec's wire form, 65 bytes `r || s || v`, into lowercase hex. This checks
 * the shape only; whether it is canonical and from the right signer is for the verifier to decide.
 */
export function parseSignatureHex(value: unknown): Hex {
  const hex = parseHex(value);
  if (hex.length !== 132) throw new InvalidValueError("signature", "Expected a 65-byte signature");
  return hex;
}
