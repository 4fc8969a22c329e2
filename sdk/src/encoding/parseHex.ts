import type { Hex } from "viem";
import { InvalidValueError } from "../errors/InvalidValueError.js";

const HEX = /^0x(?:[0-9a-fA-F]{2})*$/;

/**
 * Parses a `0x`-prefixed byte string with an even number of digits and returns it in lowercase, the
 * spec's canonical form. Mixed case is accepted on input so that values copied from explorers parse.
 */
export function parseHex(value: unknown): Hex {
  if (typeof value !== "string" || !HEX.test(value)) {
    throw new InvalidValueError("hex", "Expected 0x-prefixed hex bytes");
  }
  return value.toLowerCase() as Hex;
}
