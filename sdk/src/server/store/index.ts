// Session stores: where the server gate keeps channels and charges. The portable part, which
// tollgate/server re-exports; the Node stores have their own entries (server/sqlite.ts, server/postgres.ts).
export type {
  ChannelQuery,
  ChannelRecord,
  ChannelTransaction,
  ChargeRecord,
  PaymentQuery,
  PaymentRecord,
  SessionStore,
  UsageLabel,
  UsageQuery,
  UsageRow,
} from "./SessionStore.js";
export { groupUsage, type GroupUsageParameters, type UsageDimension, type UsageTotal } from "./groupUsage.js";
export { paymentKey } from "./SessionStore.js";
export { StoreError, type StoreErrorReason } from "../../errors/StoreError.js";
export { createMemoryStore } from "./createMemoryStore.js";
