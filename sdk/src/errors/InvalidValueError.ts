import { TollgateError, type TollgateErrorOptions } from "./TollgateError.js";

/** What kind of value failed to parse or was out of range. */
export type InvalidValueKind =
  | "hex"
  | "bytes32"
  | "address"
  | "amount"
  | "signature"
  | "decimals"
  | "chainId"
  | "base64url"
  | "json"
  | "challenge"
  | "receipt"
  | "request";

/** A value (usually from the wire) is malformed or out of range. */
export class InvalidValueError extends TollgateError {
  override name = "InvalidValueError";
  readonly kind: InvalidValueKind;

  constructor(kind: InvalidValueKind, message: string, options?: TollgateErrorOptions) {
    super("INVALID_VALUE", message, options);
    this.kind = kind;
  }
}
