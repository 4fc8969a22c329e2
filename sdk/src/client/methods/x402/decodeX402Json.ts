import { InvalidValueError } from "../../../errors/InvalidValueError.js";

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const decoder = new TextDecoder("utf-8", { fatal: true });

/** x402 headers are standard base64 (padded) of UTF-8 JSON; anything else is a typed error, never a crash. */
export function decodeX402Json(header: string, name: string): Record<string, unknown> {
  const value = header.trim();
  if (!BASE64.test(value)) throw new InvalidValueError("challenge", `${name} is not base64`);
  const bytes = Uint8Array.from(atob(value), (character) => character.charCodeAt(0));
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch (cause) {
    throw new InvalidValueError("json", `${name} is not UTF-8 JSON`, { cause });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new InvalidValueError("challenge", `${name} is not a JSON object`);
  return parsed as Record<string, unknown>;
}

/** Standard base64 of the JSON of `value`: how x402 headers are written. */
export function encodeX402Json(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
