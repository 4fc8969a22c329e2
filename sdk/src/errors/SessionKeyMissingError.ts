import type { Hex } from "viem";
import { TollgateError } from "./TollgateError.js";

/**
 * A channel's vouchers are signed by a session key the store no longer holds (or holds for another
 * signer). Its deposit is not lost: a cooperative close on the last voucher, or `requestClose` then
 * `withdraw` from the payer, ends it without one.
 */
export class SessionKeyMissingError extends TollgateError {
  override name = "SessionKeyMissingError";
  readonly channelId: Hex;

  constructor(channelId: Hex, message: string) {
    super("SESSION_KEY_MISSING", message);
    this.channelId = channelId;
  }
}
