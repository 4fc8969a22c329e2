import { TollgateError, type TollgateErrorOptions } from "./TollgateError.js";

/** An option given to the SDK is missing, malformed, or disagrees with the chain; `option` names it. */
export class ConfigurationError extends TollgateError {
  override name = "ConfigurationError";
  readonly option: string;

  constructor(option: string, message: string, options?: TollgateErrorOptions) {
    super("INVALID_CONFIGURATION", message, options);
    this.option = option;
  }
}
