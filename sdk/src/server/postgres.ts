// tollgate/server/postgres: the PostgreSQL session store, on the optional peer dependency `pg`.
export { createPostgresStore, type CreatePostgresStoreParameters, type PostgresPool } from "./store/createPostgresStore.js";
