import { InvalidValueError } from "../../../errors/InvalidValueError.js";
import { decodeX402Header } from "../../../protocol/x402.js";

/** An x402 header that must hold a JSON object (protocol/x402.ts decodes it); anything else is a typed error, never a crash. */
export function decodeX402Json(header: string, name: string): Record<string, unknown> {
  const parsed = decodeX402Header(header.trim());
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new InvalidValueError("challenge", `${name} is not a JSON object`);
  return parsed as Record<string, unknown>;
}
