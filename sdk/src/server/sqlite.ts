// tollgate/server/sqlite: the SQLite session store, on Node's built-in `node:sqlite` (Node.js 22.13 or later).
export { createSqliteStore, type CreateSqliteStoreParameters } from "./store/createSqliteStore.js";
