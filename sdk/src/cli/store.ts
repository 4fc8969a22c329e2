// The seller's session store behind --db: a SQLite file, or a PostgreSQL URL. Loaded on demand, so
// commands without --db never load node:sqlite or pg.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { SessionStore } from "../server/store/SessionStore.js";
import { StoreError } from "../errors/StoreError.js";
import { redactUrl } from "./context.js";
import { CliError, EXIT, notFound, usageError } from "./errors.js";

export const DB_HELP = `  --db <path|url>        the seller's session store: a SQLite file (a path or a file: URL, as given to
                         createSqliteStore) or a postgres:// URL (createPostgresStore, schema "tollgate")`;

export type DbLocation = { kind: "postgres"; url: string } | { kind: "sqlite"; path: string };

/** What --db names: postgres:// or postgresql:// URLs, file: URLs (file:///abs or file:relative) and plain paths. */
export function parseDbLocation(db: string, cwd: string): DbLocation {
  if (/^postgres(ql)?:\/\//i.test(db)) return { kind: "postgres", url: db };
  if (db === ":memory:") return { kind: "sqlite", path: db };
  if (/^file:/i.test(db)) {
    if (!/^file:\/\//i.test(db)) return { kind: "sqlite", path: resolve(cwd, decodeURIComponent(db.slice("file:".length))) };
    try {
      return { kind: "sqlite", path: fileURLToPath(db) };
    } catch {
      throw usageError(`--db: ${JSON.stringify(db)} is not a file: URL of a local file`);
    }
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(db)?.[1];
  if (scheme !== undefined) throw usageError(`--db: unsupported URL scheme ${scheme}: (expected a SQLite path, a file: URL or a postgres:// URL)`);
  return { kind: "sqlite", path: resolve(cwd, db) };
}

/** Opens an existing store; a SQLite path with no file is "not found" rather than a new empty database. */
async function openStore(location: DbLocation): Promise<SessionStore> {
  if (location.kind === "postgres") {
    const { createPostgresStore } = await import("../server/store/createPostgresStore.js");
    return createPostgresStore({ connectionString: location.url });
  }
  if (location.path !== ":memory:" && !existsSync(location.path)) throw notFound(`no database at ${location.path}`, { db: location.path });
  const { createSqliteStore } = await import("../server/store/createSqliteStore.js");
  return createSqliteStore({ path: location.path });
}

/** PostgreSQL's "database does not exist" (SQLSTATE 3D000) somewhere in the cause chain. */
function isMissingDatabase(error: unknown): boolean {
  for (let cause = error, depth = 0; cause !== undefined && cause !== null && depth < 10; depth++) {
    if ((cause as { code?: unknown }).code === "3D000") return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Opens the store, runs `fn`, and closes it whatever happens. A PostgreSQL server that cannot be reached
 * is exit 4; a server that answers that the database does not exist is exit 5.
 */
export async function withStore<T>(db: string, cwd: string, fn: (store: SessionStore) => Promise<T>): Promise<T> {
  const location = parseDbLocation(db, cwd);
  try {
    const store = await openStore(location);
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  } catch (error) {
    if (error instanceof StoreError && location.kind === "postgres") {
      if (isMissingDatabase(error)) throw new CliError(EXIT.notFound, error.message, { db: redactUrl(db) }, { cause: error });
      if (error.reason === "unavailable") throw new CliError(EXIT.unreachable, error.message, { db: redactUrl(db) }, { cause: error });
    }
    throw error;
  }
}
