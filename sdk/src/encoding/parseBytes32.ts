import type { Hex } from "viem";
import { InvalidValueError } from "../errors/InvalidValueError.js";
import { parseHex } from "./parseHex.js";

/** Parses a 32-byte value (channel id, salt, nonce, hash); returns lowercase hex. */
export function parseBytes32(value: unknown): Hex {
  const hex = parseHex(value);
  if (hex.length !== 66) throw new InvalidValueError("bytes32", "Expected 32 bytes of hex");
  return hex;
}
