import { createMemoryStore } from "../../../sdk/src/server/store/index.js";
import { describeStoreConformance } from "./storeConformance.js";

describeStoreConformance("memory", { create: async () => createMemoryStore() });
