import type { UsageRow } from "./SessionStore.js";

/** A field of `UsageRow` that usage can be summed by. */
export type UsageDimension = "period" | "payer" | "route" | "unitType";

/** Sums of usage rows that share the grouped fields (only those fields are present). */
export type UsageTotal = Partial<Pick<UsageRow, UsageDimension>> & Pick<UsageRow, "amount" | "units" | "charges" | "payments">;

export type GroupUsageParameters = {
  rows: readonly UsageRow[];
  /** The fields to keep; every other one is summed over. `[]` gives one grand total (none without rows). */
  by: readonly UsageDimension[];
};

/** Rolls `store.usage()` rows up by the given fields, ordered by them (code unit order, as the rows). */
export function groupUsage({ rows, by }: GroupUsageParameters): UsageTotal[] {
  const groups = new Map<string, UsageTotal>();
  for (const row of rows) {
    const values = by.map((field) => row[field]);
    const id = JSON.stringify(values);
    let group = groups.get(id);
    if (group === undefined) {
      group = { ...Object.fromEntries(by.map((field, i) => [field, values[i]])), amount: 0n, units: 0n, charges: 0, payments: 0 };
      groups.set(id, group);
    }
    group.amount += row.amount;
    group.units += row.units;
    group.charges += row.charges;
    group.payments += row.payments;
  }
  return [...groups.values()].sort((a, b) => {
    for (const field of by) {
      const [x, y] = [a[field]!, b[field]!];
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });
}
