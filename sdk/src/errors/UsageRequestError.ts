import { TollgateError, type TollgateErrorOptions } from "./TollgateError.js";

/** The seller's usage endpoint refused a usage request or answered something that is not a usage report. */
export class UsageRequestError extends TollgateError {
  override name = "UsageRequestError";
  /** The HTTP status of the answer (0 when the request did not get one). */
  readonly status: number;
  /** The RFC 9457 problem the endpoint answered with, when it did. */
  readonly problem: Record<string, unknown> | undefined;

  constructor(message: string, { status, problem, ...options }: TollgateErrorOptions & { status: number; problem?: Record<string, unknown> | undefined }) {
    super("USAGE_REQUEST_FAILED", message, options);
    this.status = status;
    this.problem = problem;
  }
}
