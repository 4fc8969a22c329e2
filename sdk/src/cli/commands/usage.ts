import type { Address } from "viem";
import { assertDecimals } from "../../encoding/assertDecimals.js";
import { groupUsage, type UsageDimension, type UsageTotal } from "../../server/store/groupUsage.js";
import type { UsageQuery } from "../../server/store/SessionStore.js";
import type { Command } from "../command.js";
import {
  type CommandContext,
  connect,
  hasRpcUrl,
  noPositionals,
  parseAddressFlag,
  parseFlag,
  readToken,
  stringOption,
} from "../context.js";
import { usageError } from "../errors.js";
import { formatAmount, table, type TokenInfo } from "../output.js";
import { DB_HELP, withStore } from "../store.js";

const PERIODS = ["hour", "day", "month"] as const;
/** `--by` values, the row field each groups by, its column heading and the JSON key of its totals. */
const GROUPINGS = {
  payer: { field: "payer", heading: "PAYER", totals: "payers", all: "all payers" },
  route: { field: "route", heading: "ROUTE", totals: "routes", all: "all routes" },
  unit: { field: "unitType", heading: "UNIT", totals: "unitTypes", all: "all units" },
} as const satisfies Record<string, { field: Exclude<UsageDimension, "period">; heading: string; totals: string; all: string }>;
type Grouping = (typeof GROUPINGS)[keyof typeof GROUPINGS];

export const usageCommand: Command = {
  name: "usage",
  summary: "the seller's committed charges and settled payments per payer, route or unit and hour, day or month",
  help: `Usage: tollgate usage --db <path|url> [--period hour|day|month] [--by payer|route|unit]
                      [--from <date>] [--to <date>] [--payer <address>] [--decimals <n> | --token <address>]

Sums what the seller's session store holds as paid (the store's usage() query): committed session
charges and settled one-time payments (MPP charge, x402), per UTC period and per payer, route or unit
type: amount, units, number of charges and of payments, with totals per group and overall. Routes are
the gate routes' \`name\`; charges stored before routes were recorded show as route "unknown".

Options:
${DB_HELP}
  --period <p>           hour, day (default) or month
  --by <g>               group by payer (default), route or unit (the route's unit type)
  --from <date>          first instant counted, inclusive: 2025-01-31 or 2025-01-31T12:00:00Z
  --to <date>            end, exclusive
  --payer <address>      one payer only
  --decimals <n>         the token's decimals, to print whole tokens
  --token <address>      read the decimals and symbol from this token (needs --rpc-url)
  --rpc-url <url>        node for --token; default: $TOLLGATE_RPC_URL. Without --decimals or --token and with
                         an RPC endpoint, the decimals come from the store's token when it holds only one;
                         otherwise amounts are printed in base units.`,
  options: {
    "rpc-url": { type: "string" },
    "chain-id": { type: "string" },
    db: { type: "string" },
    period: { type: "string" },
    by: { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    payer: { type: "string" },
    decimals: { type: "string" },
    token: { type: "string" },
  },
  run,
};

async function run(context: CommandContext) {
  noPositionals(context);
  const db = stringOption(context, "db");
  if (db === undefined) throw usageError("missing --db <path|url>: usage is read from the seller's session store");
  const period = (stringOption(context, "period") ?? "day") as UsageQuery["period"];
  if (!PERIODS.includes(period)) throw usageError(`--period: expected hour, day or month (got ${JSON.stringify(period)})`);
  const byFlag = stringOption(context, "by") ?? "payer";
  if (!Object.hasOwn(GROUPINGS, byFlag)) throw usageError(`--by: expected payer, route or unit (got ${JSON.stringify(byFlag)})`);
  const grouping = GROUPINGS[byFlag as keyof typeof GROUPINGS];
  const from = dateFlag(context, "from");
  const to = dateFlag(context, "to");
  if (from !== undefined && to !== undefined && from >= to) throw usageError("--from must be before --to");
  const payerFlag = stringOption(context, "payer");
  const payer = payerFlag === undefined ? undefined : parseAddressFlag("--payer", payerFlag);
  const decimalsFlag = stringOption(context, "decimals");
  const tokenFlag = stringOption(context, "token");
  if (decimalsFlag !== undefined && tokenFlag !== undefined) throw usageError("give --decimals or --token, not both");
  const tokenAddress = tokenFlag === undefined ? undefined : parseAddressFlag("--token", tokenFlag);
  let token: Pick<TokenInfo, "decimals" | "symbol"> | TokenInfo | undefined;
  if (decimalsFlag !== undefined) {
    const decimals = parseFlag("--decimals", decimalsFlag, (text) => {
      if (!/^[0-9]+$/.test(text)) throw usageError(`--decimals: expected an integer from 0 to 255 (got ${JSON.stringify(text)})`);
      assertDecimals(Number(text));
      return Number(text);
    });
    token = { decimals, symbol: null };
  }

  const { rows: stored, tokens } = await withStore(db, context.io.cwd, async (store) => ({
    rows: await store.usage({ period, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }), ...(payer === undefined ? {} : { payer }) }),
    tokens: token !== undefined || tokenAddress !== undefined || !hasRpcUrl(context) ? [] : uniqueTokens(await store.listChannels()),
  }));
  if (tokenAddress !== undefined) token = await readToken(await connect(context), tokenAddress);
  else if (token === undefined && tokens.length === 1) token = await readToken(await connect(context), tokens[0]!);

  const rows = groupUsage({ rows: stored, by: ["period", grouping.field] });
  const groups = groupUsage({ rows: stored, by: [grouping.field] });
  const total = groupUsage({ rows: stored, by: [] })[0] ?? { amount: 0n, units: 0n, charges: 0, payments: 0 };
  const json = {
    period,
    by: byFlag,
    from: from === undefined ? null : new Date(from).toISOString(),
    to: to === undefined ? null : new Date(to).toISOString(),
    payer: payer ?? null,
    token: token ?? null,
    rows,
    [grouping.totals]: groups,
    total,
  };
  return { json, human: describe(rows, groups, total, { period, grouping, token, from, to }) };
}

function dateFlag(context: CommandContext, name: "from" | "to"): number | undefined {
  const value = stringOption(context, name);
  if (value === undefined) return undefined;
  const time = /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value) : NaN;
  if (Number.isNaN(time)) throw usageError(`--${name}: expected a date such as 2025-01-31 or 2025-01-31T12:00:00Z (got ${JSON.stringify(value)})`);
  return time;
}

function uniqueTokens(channels: readonly { token: Address }[]): Address[] {
  return [...new Map(channels.map((channel) => [channel.token.toLowerCase(), channel.token])).values()];
}

function describe(
  rows: UsageTotal[],
  groups: UsageTotal[],
  total: UsageTotal,
  options: { period: UsageQuery["period"]; grouping: Grouping; token: Pick<TokenInfo, "decimals" | "symbol"> | undefined; from?: number | undefined; to?: number | undefined },
): string {
  const { period, grouping, token, from, to } = options;
  const amount = (value: bigint) => (token === undefined ? value.toString() : formatAmount(value, token));
  const range = [from !== undefined && `from ${new Date(from).toISOString()}`, to !== undefined && `until ${new Date(to).toISOString()}`].filter(Boolean).join(" ");
  const by = grouping.heading.toLowerCase();
  const title = `committed charges and settled payments per ${by} and ${period} (UTC)${range ? `, ${range}` : ""}${token === undefined ? ", amounts in base units" : ""}`;
  if (rows.length === 0) return `${title}\nno charges`;
  const label = (iso: string) => (period === "month" ? iso.slice(0, 7) : period === "day" ? iso.slice(0, 10) : `${iso.slice(0, 13)}:00Z`);
  const line = (first: string, second: string, sum: UsageTotal) => [first, second, amount(sum.amount), sum.units.toString(), String(sum.charges), String(sum.payments)];
  const body = rows.map((row) => line(label(row.period!), row[grouping.field]!, row));
  const perGroup = groups.map((group) => line("total", group[grouping.field]!, group));
  const all = groups.length > 1 ? [line("total", grouping.all, total)] : [];
  return `${title}\n${table(["PERIOD", grouping.heading, "AMOUNT", "UNITS", "CHARGES", "PAYMENTS"], [...body, ...perGroup, ...all])}`;
}
