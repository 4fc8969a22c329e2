// Session stores: where the server gate keeps channels and charges. Import from here.
export type {
  ChannelQuery,
  ChannelRecord,
  ChannelTransaction,
  ChargeRecord,
  SessionStore,
  UsageQuery,
  UsageRow,
} from "./SessionStore.js";
export { StoreError, type StoreErrorReason } from "../../errors/StoreError.js";
export { createMemoryStore } from "./createMemoryStore.js";
export { createSqliteStore, type CreateSqliteStoreParameters } from "./createSqliteStore.js";
export { createPostgresStore, type CreatePostgresStoreParameters } from "./createPostgresStore.js";
