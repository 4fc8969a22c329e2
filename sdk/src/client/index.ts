// tollgate/client: a fetch that pays for `evm` session-metered APIs. Portable (no Node built-ins); the
// file channel store is tollgate/client/file-store, the browser's (localStorage) is here.
export { createPayingFetch, type CloseResult, type PayingFetch, type PayingFetchParameters } from "./createPayingFetch.js";
export { type PerCurrency } from "./createPaymentCaps.js";
export { channelKey, createMemoryChannelStore, type ClientChannel, type ClientChannelStore } from "./ClientChannel.js";
export { createBrowserChannelStore, type ChannelStorage, type CreateBrowserChannelStoreParameters } from "./createBrowserChannelStore.js";
export { toPayingWallet, type PayingWallet, type ToPayingWalletParameters } from "./toPayingWallet.js";
export { SessionKeyMissingError } from "../errors/SessionKeyMissingError.js";
export { followPaymentEvents, type FollowPaymentEventsParameters } from "./followPaymentEvents.js";
export { PaymentCapError, type PaymentCap } from "../errors/PaymentCapError.js";
export { UntrustedServerError } from "../errors/UntrustedServerError.js";
