import { type Price, parsePrice } from "./parsePrice.js";

/** A route's money options, as a seller writes them. */
export type RoutePriceOptions = {
  amount: Price;
  suggestedDeposit?: Price | undefined;
  minVoucherDelta?: Price | undefined;
  minRelayedDeposit?: Price | undefined;
};

/** The same options in base units, defaults applied. */
export type RoutePrices = { amount: bigint; suggestedDeposit: bigint; minVoucherDelta: bigint; minRelayedDeposit: bigint };

/**
 * Checks a route's money options and converts them to base units. Undefined while a decimal string
 * waits for the currency's decimals (read by `gate.ready()`); every malformed value is refused anyway.
 */
export function routePrices(route: RoutePriceOptions, decimals: number | undefined): RoutePrices | undefined {
  let pending = false;
  const parse = (option: keyof RoutePriceOptions, allowZero = false) => {
    if (option !== "amount" && route[option] === undefined) return undefined;
    const value = parsePrice({ value: route[option], option, decimals, allowZero });
    pending ||= value === undefined;
    return value;
  };
  const amount = parse("amount");
  const suggestedDeposit = parse("suggestedDeposit");
  const minVoucherDelta = parse("minVoucherDelta", true);
  const minRelayedDeposit = parse("minRelayedDeposit");
  if (pending || amount === undefined) return undefined;
  return { amount, suggestedDeposit: suggestedDeposit ?? amount * 100n, minVoucherDelta: minVoucherDelta ?? 0n, minRelayedDeposit: minRelayedDeposit ?? amount };
}
