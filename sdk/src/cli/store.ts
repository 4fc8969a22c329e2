// The seller's session store behind --db: a SQLite file, or a PostgreSQL URL. Loaded on demand, so
// commands without --db never load node:sqlite or pg.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { SessionStore } from "../server/store/SessionStore.js";
import { StoreError } from "../errors/StoreError.js";
import { redactUrl } from "./context.js";
import { CliError, EXIT, notFound } from "./errors.js";

export const DB_HELP = `  --db <path|url>        the seller's session store: a SQLite file (as given to createSqliteStore)
                         or a postgres:// URL (createPostgresStore, schema "tollgate")`;

export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** Opens an existing store; a SQLite path with no file is "not found" rather than a new empty database. */
export async function openStore(db: string, cwd: string): Promise<SessionStore> {
  if (isPostgresUrl(db)) {
    const { createPostgresStore } = await import("../server/store/createPostgresStore.js");
    return createPostgresStore({ connectionString: db });
  }
  const path = db === ":memory:" ? db : resolve(cwd, db);
  if (path !== ":memory:" && !existsSync(path)) throw notFound(`no database at ${path}`, { db: path });
  const { createSqliteStore } = await import("../server/store/createSqliteStore.js");
  return createSqliteStore({ path });
}

/** Opens the store, runs `fn`, and closes it whatever happens; a PostgreSQL server that cannot be reached is exit 4. */
export async function withStore<T>(db: string, cwd: string, fn: (store: SessionStore) => Promise<T>): Promise<T> {
  try {
    const store = await openStore(db, cwd);
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  } catch (error) {
    if (error instanceof StoreError && error.reason === "unavailable" && isPostgresUrl(db)) {
      throw new CliError(EXIT.unreachable, error.message, { db: redactUrl(db) }, { cause: error });
    }
    throw error;
  }
}
