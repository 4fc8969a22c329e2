import { createMemoryStore } from "../../../sdk/src/server/store/index.js";
import { describePaymentConformance } from "./paymentConformance.js";
import { describeStoreConformance } from "./storeConformance.js";

describeStoreConformance("memory", { create: async () => createMemoryStore() });
describePaymentConformance("memory", { create: async () => createMemoryStore() });
