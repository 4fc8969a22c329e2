import type { Address } from "viem";
import { assertDecimals } from "../../encoding/assertDecimals.js";
import type { UsageQuery, UsageRow } from "../../server/store/SessionStore.js";
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

export const usageCommand: Command = {
  name: "usage",
  summary: "the seller's committed charges per payer and hour, day or month, from the session store",
  help: `Usage: tollgate usage --db <path|url> [--period hour|day|month] [--from <date>] [--to <date>]
                      [--payer <address>] [--decimals <n> | --token <address>]

Sums the committed charges in the seller's session store per payer and UTC period (the store's
usage() query): amount, units and number of charges, with totals per payer and overall.

Options:
${DB_HELP}
  --period <p>           hour, day (default) or month
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

  const { rows, tokens } = await withStore(db, context.io.cwd, async (store) => ({
    rows: await store.usage({ period, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }), ...(payer === undefined ? {} : { payer }) }),
    tokens: token !== undefined || tokenAddress !== undefined || !hasRpcUrl(context) ? [] : uniqueTokens(await store.listChannels()),
  }));
  if (tokenAddress !== undefined) token = await readToken(await connect(context), tokenAddress);
  else if (token === undefined && tokens.length === 1) token = await readToken(await connect(context), tokens[0]!);

  const payers = new Map<Address, { amount: bigint; units: bigint; charges: number }>();
  const total = { amount: 0n, units: 0n, charges: 0 };
  for (const row of rows) {
    const sum = payers.get(row.payer) ?? { amount: 0n, units: 0n, charges: 0 };
    payers.set(row.payer, { amount: sum.amount + row.amount, units: sum.units + row.units, charges: sum.charges + row.charges });
    total.amount += row.amount;
    total.units += row.units;
    total.charges += row.charges;
  }
  const json = {
    period,
    from: from === undefined ? null : new Date(from).toISOString(),
    to: to === undefined ? null : new Date(to).toISOString(),
    payer: payer ?? null,
    token: token ?? null,
    rows,
    payers: [...payers].map(([address, sum]) => ({ payer: address, ...sum })),
    total,
  };
  return { json, human: describe(rows, payers, total, { period, token, from, to }) };
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
  rows: UsageRow[],
  payers: Map<Address, { amount: bigint; units: bigint; charges: number }>,
  total: { amount: bigint; units: bigint; charges: number },
  { period, token, from, to }: { period: UsageQuery["period"]; token: Pick<TokenInfo, "decimals" | "symbol"> | undefined; from?: number | undefined; to?: number | undefined },
): string {
  const amount = (value: bigint) => (token === undefined ? value.toString() : formatAmount(value, token));
  const range = [from !== undefined && `from ${new Date(from).toISOString()}`, to !== undefined && `until ${new Date(to).toISOString()}`].filter(Boolean).join(" ");
  const title = `committed charges per payer and ${period} (UTC)${range ? `, ${range}` : ""}${token === undefined ? ", amounts in base units" : ""}`;
  if (rows.length === 0) return `${title}\nno charges`;
  const label = (iso: string) => (period === "month" ? iso.slice(0, 7) : period === "day" ? iso.slice(0, 10) : `${iso.slice(0, 13)}:00Z`);
  const body = rows.map((row) => [label(row.period), row.payer, amount(row.amount), row.units.toString(), String(row.charges)]);
  const perPayer = [...payers].map(([payer, sum]) => ["total", payer, amount(sum.amount), sum.units.toString(), String(sum.charges)]);
  const all = payers.size > 1 ? [["total", "all payers", amount(total.amount), total.units.toString(), String(total.charges)]] : [];
  return `${title}\n${table(["PERIOD", "PAYER", "AMOUNT", "UNITS", "CHARGES"], [...body, ...perPayer, ...all])}`;
}
