import { maxUint128 } from "viem";
import { parseTokenAmount } from "../encoding/parseTokenAmount.js";
import { ConfigurationError } from "../errors/ConfigurationError.js";

/** An amount of the currency: a decimal string of whole tokens (`"0.01"`) or base units (`10_000n`). */
export type Price = string | bigint;

export type ParsePriceParameters = {
  value: unknown;
  /** The option the value was given as, named in errors. */
  option: string;
  /** The currency's decimals; undefined until the gate has read them from the token. */
  decimals: number | undefined;
  /** Whether 0 is a valid value (a minimum), rather than a price that must be positive. */
  allowZero?: boolean;
};

/**
 * A price option in base units. A decimal string needs the currency's decimals: before they are known
 * its form and sign are checked (as if the token had exactly the string's fraction digits) and the
 * result is undefined. Numbers are refused: a float cannot hold money exactly, and `10000` is
 * ambiguous between whole tokens and base units.
 */
export function parsePrice({ value, option, decimals, allowZero = false }: ParsePriceParameters): bigint | undefined {
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  const refuse = (reason: string, cause?: unknown) =>
    new ConfigurationError(option, `\`${option}\` ${reason}; got ${shown}`, cause === undefined ? {} : { cause });
  let amount: bigint;
  if (typeof value === "bigint") {
    amount = value;
  } else if (typeof value === "string") {
    try {
      amount = parseTokenAmount({ value, decimals: decimals ?? Math.min(255, value.split(".")[1]?.length ?? 0) });
    } catch (error) {
      throw refuse(
        decimals === undefined
          ? 'must be a decimal amount of whole tokens such as "0.01"'
          : `must be a decimal amount of whole tokens with at most ${decimals} decimal places (the currency's decimals), such as "0.01"`,
        error,
      );
    }
    if (decimals === undefined && amount > 0n) return undefined;
  } else {
    const hint = typeof value === "number" ? ", not a number" : "";
    throw refuse(`must be a decimal string in the currency's units ("0.01") or base units as a bigint (10_000n)${hint}`);
  }
  if (amount < 0n || amount > maxUint128) throw refuse("must be from 0 to 2^128 - 1 base units");
  if (amount === 0n && !allowZero) throw refuse("must be more than zero");
  return amount;
}
