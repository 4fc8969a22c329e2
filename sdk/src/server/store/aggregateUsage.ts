import type { Address } from "viem";
import { StoreError } from "../../errors/StoreError.js";
import type { UsageQuery, UsageRow } from "./SessionStore.js";

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Rejects a period other than hour, day or month (the type says so, JavaScript callers may not). */
export function assertUsagePeriod(period: unknown): asserts period is UsageQuery["period"] {
  if (period !== "hour" && period !== "day" && period !== "month") {
    throw new StoreError("misuse", `Unknown usage period ${String(period)}; expected hour, day or month`);
  }
}

/** Start (ms since the epoch, UTC) of the hour, day or month containing `time`. */
export function periodStart(time: number, period: UsageQuery["period"]): number {
  if (period === "hour") return Math.floor(time / HOUR) * HOUR;
  if (period === "day") return Math.floor(time / DAY) * DAY;
  const date = new Date(time);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

/** Usage rows in one order for every store: period first, then payer by code unit (not collation). */
export function compareUsageRows(a: UsageRow, b: UsageRow): number {
  if (a.period !== b.period) return a.period < b.period ? -1 : 1;
  return a.payer < b.payer ? -1 : a.payer > b.payer ? 1 : 0;
}

export type UsageCharge = { payer: Address; createdAt: number; amount: bigint; units: bigint };

/**
 * Groups committed charges by payer and UTC period, summing as bigint: SQL engines either overflow
 * (SQLite's 64-bit SUM) or would need NUMERIC, and uint128 sums must be exact.
 */
export function aggregateUsage(charges: Iterable<UsageCharge>, period: UsageQuery["period"]): UsageRow[] {
  assertUsagePeriod(period);
  const groups = new Map<string, { payer: Address; start: number; amount: bigint; units: bigint; charges: number }>();
  for (const charge of charges) {
    const start = periodStart(charge.createdAt, period);
    const id = `${start}|${charge.payer}`;
    const group = groups.get(id);
    if (group === undefined) {
      groups.set(id, { payer: charge.payer, start, amount: charge.amount, units: charge.units, charges: 1 });
    } else {
      group.amount += charge.amount;
      group.units += charge.units;
      group.charges += 1;
    }
  }
  return [...groups.values()]
    .map(({ payer, start, amount, units, charges }) => ({
      payer,
      period: new Date(start).toISOString(),
      amount,
      units,
      charges,
    }))
    .sort(compareUsageRows);
}
