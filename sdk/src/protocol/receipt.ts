import { InvalidValueError } from "../errors/InvalidValueError.js";
import { decodeBase64urlJson, encodeBase64url } from "./base64url.js";
import { canonicalJson } from "./canonicalJson.js";

/** The fields every `Payment-Receipt` carries; payment methods add their own. */
export type PaymentReceipt = {
  status: "success";
  method: string;
  /** RFC 3339. */
  timestamp: string;
  reference: string;
  [field: string]: unknown;
};

/** The `Payment-Receipt` header value: base64url of the JCS-serialized receipt. */
export function formatReceipt(receipt: PaymentReceipt): string {
  return encodeBase64url(canonicalJson(receipt));
}

export function parseReceipt(header: string): PaymentReceipt {
  const value = decodeBase64urlJson(header.trim());
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidValueError("receipt", "The receipt is not a JSON object");
  }
  const receipt = value as Record<string, unknown>;
  if (receipt.status !== "success") throw new InvalidValueError("receipt", "A receipt's status must be success");
  for (const name of ["method", "timestamp", "reference"]) {
    if (typeof receipt[name] !== "string") throw new InvalidValueError("receipt", `The receipt has no ${name}`);
  }
  return receipt as PaymentReceipt;
}
