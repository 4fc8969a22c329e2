// tollgate/server/node: serve a fetch-style gate from Node's `http` (and Express), which needs Node built-ins.
export { toNodeHandler, type FetchHandler, type NodeHandler } from "./adapters/toNodeHandler.js";
export { paidExpressHandler } from "./adapters/express.js";
export { clientErrorHandler } from "./adapters/clientErrorHandler.js";
