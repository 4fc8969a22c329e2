// tollgate/client/file-store: client channels kept in a JSON file (Node: `node:fs`).
export { createFileChannelStore, type CreateFileChannelStoreParameters } from "./createFileChannelStore.js";
