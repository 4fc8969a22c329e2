import { TollgateError } from "./TollgateError.js";

/** The seller claimed a state no voucher of this client supports, e.g. a receipt above the highest voucher signed. */
export class UntrustedServerError extends TollgateError {
  override name = "UntrustedServerError";

  constructor(message: string) {
    super("UNTRUSTED_SERVER", message);
  }
}
