// tollgate/server: charge for HTTP requests through `evm` payment-channel sessions. Portable (Node, Bun,
// Deno, workers, browsers): nothing here imports a Node built-in. Node-only pieces have their own
// entries: tollgate/server/node, tollgate/server/sqlite, tollgate/server/postgres.
export {
  type Authorization,
  createPaymentGate,
  type PaidHandler,
  type PaidRequest,
  type Payment,
  type PaymentGate,
  type PaymentGateParameters,
  type SessionMethodParameters,
  type SessionRoute,
  type SessionRouteParameters,
} from "./createPaymentGate.js";
export type {
  ClaimedRequest,
  GateContext,
  GateMethod,
  GateMethodFactory,
  MethodRequest,
  OneTimePayment,
  PaymentCredentialInput,
  PaymentMethodName,
  PaymentOffer,
  PricedRoute,
  SessionPayment,
} from "./core/GateMethod.js";
export {
  createSettlementService,
  type SettlementEvent,
  type SettlementPolicy,
  type SettlementService,
  type SettlementServiceParameters,
} from "./createSettlementService.js";
export {
  createDiscoveryDocument,
  type CreateDiscoveryDocumentParameters,
  type CreateDiscoveryDocumentReturnType,
  type DiscoverableRoute,
  type DiscoveryOffer,
  type DiscoveryOperation,
  type DiscoveryRoute,
  type DiscoveryServiceInfo,
} from "./discovery/createDiscoveryDocument.js";
export { createUsageEndpoint, type CreateUsageEndpointParameters, type UsageEndpoint } from "./usage/createUsageEndpoint.js";
export type { UsageReportJson, UsageTotalJson, UsageChannelJson } from "../protocol/usage.js";
export { meteredEventStream, type MeteredChunk, type MeteredEventStreamParameters } from "./meteredEventStream.js";
export { MIN_CLOSE_GRACE_PERIOD } from "./chain.js";
export type { Price } from "./parsePrice.js";
export { ConfigurationError } from "../errors/ConfigurationError.js";
export * from "./store/index.js";
export { PaymentProblemError, problemTypes, type ProblemDetails, type ProblemName } from "../protocol/problems.js";
export { x402, type X402Method, type X402Parameters } from "./methods/x402/x402.js";
export type { DeferredSettlement } from "./settlement/createPaymentDeferral.js";
export type { FacilitatorConfig } from "./methods/x402/createFacilitator.js";
export { charge, type ChargeMethod, type ChargeParameters } from "./methods/charge/charge.js";
export { currencyMethods, type CurrencyMethodsParameters } from "./methods/currencyMethods.js";
export { supportsTransferAuthorization, type SupportsTransferAuthorizationParameters } from "./methods/supportsTransferAuthorization.js";
