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
    // Receipts and challenges are canonicalized on every paid request: a plain loop over the sorted
    // keys, without the intermediate entry arrays.
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort(compareCodeUnits);
    let json = "";
    for (const key of keys) {
      const member = record[key];
      if (member === undefined) continue;
      json += `${json === "" ? "" : ","}${JSON.stringify(key)}:${canonicalJson(member)}`;
    }
    return `{${json}}`;
  }
  throw new InvalidValueError("json", `JSON has no representation for a ${typeof value}`);
}

/** UTF-16 code unit order, which JCS sorts keys by (`<` on strings compares code units). */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
