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

/** What usage rows name for records stored before schema 4, and for routes without a unit type. */
export const UNKNOWN_ROUTE = "unknown";
export const DEFAULT_UNIT_TYPE = "request";

/** Usage rows in one order for every store: period, payer, route, unit type, by code unit (not collation). */
export function compareUsageRows(a: UsageRow, b: UsageRow): number {
  for (const field of ["period", "payer", "route", "unitType"] as const) {
    if (a[field] !== b[field]) return a[field] < b[field] ? -1 : 1;
  }
  return 0;
}

/** A committed charge (`kind: "charge"`) or a settled one-time payment (`kind: "payment"`), as usage reads it. */
export type UsageEntry = {
  kind: "charge" | "payment";
  payer: Address;
  createdAt: number;
  amount: bigint;
  units: bigint;
  route?: string | null | undefined;
  unitType?: string | null | undefined;
};

/**
 * Groups committed charges and settled payments by UTC period, payer, route and unit type, summing as
 * bigint: SQL engines either overflow (SQLite's 64-bit SUM) or would need NUMERIC, and uint128 sums
 * must be exact.
 */
export function aggregateUsage(entries: Iterable<UsageEntry>, period: UsageQuery["period"]): UsageRow[] {
  assertUsagePeriod(period);
  const groups = new Map<string, UsageRow>();
  for (const entry of entries) {
    const start = new Date(periodStart(entry.createdAt, period)).toISOString();
    const route = entry.route ?? UNKNOWN_ROUTE;
    const unitType = entry.unitType ?? DEFAULT_UNIT_TYPE;
    // JSON keeps the key unambiguous whatever characters a route name holds.
    const id = JSON.stringify([start, entry.payer, route, unitType]);
    const group = groups.get(id) ?? { payer: entry.payer, period: start, route, unitType, amount: 0n, units: 0n, charges: 0, payments: 0 };
    group.amount += entry.amount;
    group.units += entry.units;
    if (entry.kind === "charge") group.charges += 1;
    else group.payments += 1;
    groups.set(id, group);
  }
  return [...groups.values()].sort(compareUsageRows);
}
