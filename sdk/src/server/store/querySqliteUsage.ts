import { aggregateUsage, type UsageEntry } from "./aggregateUsage.js";
import type { SqliteConnections } from "./createSqliteConnections.js";
import type { ChargeRecord, UsageQuery, UsageRow } from "./SessionStore.js";

export type QuerySqliteUsageParameters = {
  connections: SqliteConnections;
  query: UsageQuery;
};

/**
 * `usage()` on SQLite: reads the committed charges and settled payments in range, then sums them in
 * JavaScript (`aggregateUsage`), since SQLite's SUM stops at 64 bits.
 */
export async function querySqliteUsage({ connections: { read, readStatement }, query }: QuerySqliteUsageParameters): Promise<UsageRow[]> {
  const { from, to, period, payer } = query;
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (from !== undefined) (where.push("created_at >= ?"), params.push(from));
  if (to !== undefined) (where.push("created_at < ?"), params.push(to));
  if (payer !== undefined) (where.push("payer = ?"), params.push(payer));
  const select = (kind: UsageEntry["kind"], table: string, status: string) =>
    `SELECT '${kind}' AS kind, payer, created_at, amount, units, route, unit_type FROM ${table} WHERE ${["status = '" + status + "'", ...where].join(" AND ")}`;
  const sql = `${select("charge", "charges", "committed")} UNION ALL ${select("payment", "payments", "settled")}`;
  return read(() => {
    function* rows(): Generator<UsageEntry> {
      for (const row of readStatement(sql).iterate(...params, ...params)) {
        yield {
          kind: row.kind as UsageEntry["kind"],
          payer: row.payer as ChargeRecord["payer"],
          createdAt: Number(row.created_at),
          amount: BigInt(row.amount as string),
          units: BigInt(row.units as string),
          route: row.route as string | null,
          unitType: row.unit_type as string | null,
        };
      }
    }
    return aggregateUsage(rows(), period);
  });
}
