import { StoreError } from "../../errors/StoreError.js";

const SQLITE_BUSY = 5;

/** Whether `error` is SQLITE_BUSY (any extended code): another connection holds the lock. */
export function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === "number" && (code & 0xff) === SQLITE_BUSY;
}

/** A StoreError for a failed SQLite operation (a StoreError passes through as it is). */
export function databaseError(what: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  return new StoreError("database", `SQLite ${what} failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}
