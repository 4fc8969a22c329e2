import { maxUint128 } from "viem";
import { InvalidValueError } from "../errors/InvalidValueError.js";

// Canonical decimal: no sign, no leading zeros (except "0" itself), no fraction, no exponent.
const CANONICAL_DECIMAL = /^(?:0|[1-9][0-9]*)$/;
const MAX_DIGITS = maxUint128.toString().length;

/**
 * Parses an amount in base units from its wire form, a canonical decimal string, into a bigint of at
 * most `2^128 - 1` (the contract's `uint128`). Every value has exactly one accepted spelling, so two
 * parties never disagree about whether two strings denote the same amount.
 */
export function parseAmount(value: unknown): bigint {
  if (typeof value !== "string" || value.length > MAX_DIGITS || !CANONICAL_DECIMAL.test(value)) {
    throw new InvalidValueError("amount", "Expected a canonical decimal string of base units");
  }
  const amount = BigInt(value);
  if (amount > maxUint128) throw new InvalidValueError("amount", "Amount exceeds uint128");
  return amount;
}
