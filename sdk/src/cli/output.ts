// Where the CLI writes, and how: human-readable text by default, one JSON document with --json.
import { formatTokenAmount } from "../encoding/formatTokenAmount.js";

/** The process's streams and environment, injectable so the commands can be run in-process too. */
export type Io = {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
};

/** JSON with bigints as decimal strings (they are amounts in base units, beyond a double's precision). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner) => (typeof inner === "bigint" ? inner.toString() : inner), 2);
}

/** Left-aligned columns, two spaces apart, with a header row. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

/** `key  value` lines with the keys aligned. */
export function fields(entries: readonly (readonly [string, string])[]): string {
  const width = Math.max(...entries.map(([key]) => key.length));
  return entries.map(([key, value]) => `${`${key}:`.padEnd(width + 2)}${value}`).join("\n");
}

export type TokenInfo = { address: `0x${string}`; decimals: number; symbol: string | null };

/** `1.5 USDC` (or `1.5` for a token without a symbol). */
export function formatAmount(amount: bigint, token: Pick<TokenInfo, "decimals" | "symbol">): string {
  const text = formatTokenAmount({ amount, decimals: token.decimals });
  return token.symbol === null ? text : `${text} ${token.symbol}`;
}

/** ISO 8601 for a unix time in seconds. */
export function isoTime(seconds: bigint | number): string {
  return new Date(Number(seconds) * 1000).toISOString();
}
