// The seller's session store that a child process of the tests and benches (the crash test's server, the
// store tests' workers, the bench's server) opens from its JSON config: a SQLite file or a PostgreSQL schema.
import type { SessionStore } from "../sdk/src/server/index.js";
import { createPostgresStore } from "../sdk/src/server/postgres.js";
import { createSqliteStore } from "../sdk/src/server/sqlite.js";

/** Where the store is, as a config names it. */
export type StoreLocation = { kind: "sqlite"; path: string } | { kind: "postgres"; connectionString: string; schema: string };

/** The SDK's store constructors: the sources' by default, or another build of them (the bench's sdk/dist). */
export type SessionStoreFactories = { createSqliteStore: typeof createSqliteStore; createPostgresStore: typeof createPostgresStore };

export type OpenSessionStoreParameters = {
  location: StoreLocation;
  /** PostgreSQL's pool size; createPostgresStore's default when omitted. */
  maxConnections?: number;
  factories?: SessionStoreFactories;
};

export function openSessionStore({ location, maxConnections, factories = { createSqliteStore, createPostgresStore } }: OpenSessionStoreParameters): Promise<SessionStore> {
  if (location.kind === "sqlite") return Promise.resolve(factories.createSqliteStore({ path: location.path }));
  return factories.createPostgresStore({ connectionString: location.connectionString, schema: location.schema, ...(maxConnections === undefined ? {} : { maxConnections }) });
}
