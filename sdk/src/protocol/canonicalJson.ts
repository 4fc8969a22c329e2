import { InvalidValueError } from "../errors/InvalidValueError.js";

/**
 * JSON Canonicalization Scheme (RFC 8785) for the values the protocol carries: objects with keys sorted
 * by UTF-16 code units, arrays, strings, booleans, null and finite numbers (whose ECMAScript
 * serialization is the one JCS prescribes). Two parties hashing or HMAC-ing a request agree byte for byte.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new InvalidValueError("json", "JSON has no representation for this number");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`).join(",")}}`;
  }
  throw new InvalidValueError("json", `JSON has no representation for a ${typeof value}`);
}
