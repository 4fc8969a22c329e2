// tollgate/server: charge for HTTP requests through `evm` payment-channel sessions.
export {
  type Authorization,
  createPaymentGate,
  type PaidHandler,
  type PaidRequest,
  type Payment,
  type PaymentGate,
  type PaymentGateParameters,
  type SessionRoute,
  type SessionRouteParameters,
} from "./createPaymentGate.js";
export {
  createSettlementService,
  type SettlementEvent,
  type SettlementPolicy,
  type SettlementService,
  type SettlementServiceParameters,
} from "./createSettlementService.js";
export { meteredEventStream, type MeteredChunk, type MeteredEventStreamParameters } from "./meteredEventStream.js";
export { toNodeHandler, type FetchHandler, type NodeHandler } from "./adapters/toNodeHandler.js";
export { paidExpressHandler } from "./adapters/express.js";
export { clientErrorHandler } from "./adapters/clientErrorHandler.js";
export { MIN_CLOSE_GRACE_PERIOD } from "./chain.js";
export * from "./store/index.js";
export { PaymentProblemError, problemTypes, type ProblemDetails, type ProblemName } from "../protocol/problems.js";
