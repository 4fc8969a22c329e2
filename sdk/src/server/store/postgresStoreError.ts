import { StoreError } from "../../errors/StoreError.js";

export function describe(error: unknown): string {
  return (error as Error | null)?.message ?? String(error);
}

/** A StoreError for a failed PostgreSQL operation (a StoreError passes through as it is). */
export function databaseError(what: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  return new StoreError("database", `PostgreSQL ${what} failed: ${describe(error)}`, { cause: error });
}
