// tollgate/client: a fetch that pays `evm` sessions, MPP `evm` charges and x402 `exact` offers. Portable
// (no Node built-ins); the file channel store is tollgate/client/file-store, the browser's (localStorage) is here.
export { createPayingFetch, type CloseResult, type CloseTarget, type PayingFetch, type PayingFetchParameters, type PayingFetchState } from "./createPayingFetch.js";
export { type PerCurrency } from "./createPaymentCaps.js";
export { channelKey, createMemoryChannelStore, type ClientChannel, type ClientChannelStore } from "./ClientChannel.js";
export { createMemoryPaymentStore, type OneTimePayment, type OneTimePaymentStore } from "./methods/OneTimePayment.js";
export { createBrowserChannelStore, type ChannelStorage, type CreateBrowserChannelStoreParameters } from "./createBrowserChannelStore.js";
export { toPayingWallet, type PayingWallet, type ToPayingWalletParameters } from "./toPayingWallet.js";
export { SessionKeyMissingError } from "../errors/SessionKeyMissingError.js";
export { followPaymentEvents, type FollowPaymentEventsParameters } from "./followPaymentEvents.js";
export { PaymentCapError, type PaymentCap } from "../errors/PaymentCapError.js";
export { UntrustedServerError } from "../errors/UntrustedServerError.js";
export { InvalidValueError } from "../errors/InvalidValueError.js";
export { fetchUsage, type FetchUsageParameters, type FetchUsageReturnType, type UsageTotal } from "./fetchUsage.js";
export { UsageRequestError } from "../errors/UsageRequestError.js";
export { ApprovalFailedError } from "../errors/ApprovalFailedError.js";
