// Channels as JSON text for the persistent stores: bigints as `{ "$bigint": "<decimal>" }`.

export function stringifyChannelJson(value: unknown, space?: number): string {
  return JSON.stringify(value, (_key, field) => (typeof field === "bigint" ? { $bigint: field.toString() } : field), space);
}

export function parseChannelJson<T>(text: string): T {
  return JSON.parse(text, (_key, field: unknown) =>
    typeof field === "object" && field !== null && "$bigint" in field ? BigInt((field as { $bigint: string }).$bigint) : field,
  ) as T;
}
