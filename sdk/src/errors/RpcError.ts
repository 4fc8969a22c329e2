import { TollgateError, type TollgateErrorOptions } from "./TollgateError.js";

/** The node could not be reached or did not answer, so a question that needs it has no answer. */
export class RpcError extends TollgateError {
  override name = "RpcError";

  constructor(message: string, options?: TollgateErrorOptions) {
    super("RPC_FAILED", message, options);
  }
}
