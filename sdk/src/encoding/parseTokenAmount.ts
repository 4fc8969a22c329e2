import { maxUint128 } from "viem";
import { InvalidValueError } from "../errors/InvalidValueError.js";
import { assertDecimals } from "./assertDecimals.js";

export type ParseTokenAmountParameters = {
  /** Human-readable amount in whole tokens, e.g. `"1.5"` for 1.5 USDC. */
  value: string;
  /** The token's `decimals()`, e.g. 6 for USDC. */
  decimals: number;
};

const DECIMAL = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

/**
 * Converts a decimal amount of whole tokens into base units with bigint arithmetic only. More
 * fractional digits than the token has is an error rather than a silent rounding of money.
 */
export function parseTokenAmount({ value, decimals }: ParseTokenAmountParameters): bigint {
  assertDecimals(decimals);
  const match = DECIMAL.exec(value);
  if (match === null) throw new InvalidValueError("amount", "Expected a decimal amount such as 1.5");
  const whole = match[1] as string;
  const fraction = match[2] ?? "";
  if (fraction.length > decimals) {
    throw new InvalidValueError("amount", `More than ${decimals} fractional digits`);
  }
  const amount = BigInt(whole + fraction.padEnd(decimals, "0"));
  if (amount > maxUint128) throw new InvalidValueError("amount", "Amount exceeds uint128");
  return amount;
}
