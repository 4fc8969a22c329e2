import { InvalidValueError } from "../errors/InvalidValueError.js";
import { assertDecimals } from "./assertDecimals.js";

export type FormatTokenAmountParameters = {
  /** Amount in base units. */
  amount: bigint;
  /** The token's `decimals()`. */
  decimals: number;
};

/** Formats base units as whole tokens without trailing zeros: 1_500_000n with 6 decimals is `"1.5"`. */
export function formatTokenAmount({ amount, decimals }: FormatTokenAmountParameters): string {
  assertDecimals(decimals);
  if (amount < 0n) throw new InvalidValueError("amount", "Amounts are never negative");
  const digits = amount.toString().padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, "");
  return fraction === "" ? whole : `${whole}.${fraction}`;
}
