import { TollgateError, type TollgateErrorOptions } from "./TollgateError.js";

/**
 * Why a session store refused or failed an operation:
 * - `unavailable`: the backend cannot be loaded or reached (no `node:sqlite`, PostgreSQL down).
 * - `closed`: the store was closed.
 * - `schema`: the database holds a schema this code does not know (written by a newer version).
 * - `invalid-record`: a record given to `putChannel`/`putCharge` is malformed or belongs to another channel.
 * - `misuse`: a `withChannel` nested in another on the same store (it would deadlock), or a
 *   transaction object used after its `withChannel` ended.
 * - `busy`: the channel's lock could not be taken in time (another process holds the database).
 * - `database`: the database failed a statement; `cause` has the driver's error.
 * - `commit-unknown`: the connection failed during COMMIT, so whether the writes landed is unknown.
 * - `foreign-record`: a gate would write over a record another gate (another chain, escrow, token or
 *   payee) keeps in the same store.
 */
export type StoreErrorReason =
  | "unavailable"
  | "closed"
  | "schema"
  | "invalid-record"
  | "misuse"
  | "busy"
  | "database"
  | "commit-unknown"
  | "foreign-record";

/** A session store failed. Errors thrown by a `withChannel` callback pass through unwrapped instead. */
export class StoreError extends TollgateError {
  override name = "StoreError";
  readonly reason: StoreErrorReason;

  constructor(reason: StoreErrorReason, message: string, options?: TollgateErrorOptions) {
    super("STORE_FAILED", message, options);
    this.reason = reason;
  }
}
