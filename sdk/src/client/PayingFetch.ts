import type { Account, Address, Chain, Hex, Transport, WalletClient } from "viem";
import type { ClientChannel, ClientChannelStore } from "./ClientChannel.js";
import type { CloseResult } from "./closeCooperatively.js";
import type { PayingFetchState } from "./createPayingFetchState.js";
import type { PerCurrency } from "./createPaymentCaps.js";
import type { OneTimePayment, OneTimePaymentStore } from "./methods/OneTimePayment.js";

/** The channel a close is for: the open one with the seller behind a URL, or one by its id. */
export type CloseTarget = { url: string | URL } | { channelId: Hex };

export type PayingFetchParameters = {
  /**
   * The payer: any viem account (local, JSON-RPC such as a browser wallet's or a node's unlocked one, a
   * contract wallet behind an EIP-1193 provider) or a wallet client carrying one. It funds channels
   * (signs their authorizations, or sends approve and open) and, without session keys, signs vouchers.
   */
  account: Account | WalletClient;
  /**
   * Open each channel with a fresh session key (its `authorizedSigner`) that signs its vouchers, so the
   * wallet signs once per channel and never per request. The key is kept in the store with the channel
   * (whoever reads it can sign away at most that channel's deposit, to its seller only) and dropped when
   * the channel closes. Defaults to true; false makes the wallet sign every voucher.
   */
  sessionKeys?: boolean;
  /** The chain this client pays on; challenges for other chains are not answered. */
  chain: Chain;
  /** RPC transport for reads (and a bare JSON-RPC account's requests); defaults to the chain's first RPC URL. */
  transport?: Transport;
  /**
   * Milliseconds between receipt polls of the payer's transactions (approve, open, top-up); defaults to
   * half the chain's block time (see defaultPollingInterval): 1 s on Base, 100 ms on a local chain.
   */
  pollingInterval?: number;
  /** Escrows this client pays into; defaults to the known deployment on `chain`. */
  escrows?: readonly Address[];
  /** Tokens this client pays in; defaults to the stablecoin of `chain`'s known deployment (USDC on Base, MockStablecoin locally). */
  currencies?: readonly Address[];
  /**
   * Caps below apply to every method (session, charge, x402) and are base units of the offer's currency: one bigint for every allowed currency, or a
   * record by token address (a currency a record leaves out is refused, as that cap).
   */
  /** Most that one deposit (an open or a top-up) may escrow. */
  maxDeposit: PerCurrency;
  /**
   * Most held in deposits beyond the vouchers signed on them, over all channels until they are closed or
   * withdrawn: what a seller could keep locked by refusing channels. Defaults to one `maxDeposit`.
   */
  maxTotalDeposit?: PerCurrency;
  /**
   * Most a server may ask per unit of a session or per request of a one-time payment; unlimited when
   * omitted, though a price above `maxDeposit` is always refused (as `maxDeposit`).
   */
  maxPricePerUnit?: PerCurrency;
  /** Most this client may authorize in vouchers across all channels plus one-time payments; unlimited when omitted. */
  totalBudget?: PerCurrency;
  /** Added when a channel runs low; defaults to the deposit a new channel gets (the server's suggestedDeposit, capped at maxDeposit). */
  topUpAmount?: PerCurrency;
  /** Units one request may cost: a seller asking for a higher voucher is refused. Defaults to 1. */
  maxUnitsPerRequest?: bigint;
  /** Units one event stream may cost, counted from what was delivered when it began. Defaults to 1 000. */
  maxUnitsPerStream?: bigint;
  /**
   * The prepay window of event streams, in units: a voucher answering `payment-need-voucher` covers what
   * the stream delivered (one unit per content event received) plus up to this many units, so that the
   * seller serves them from the prepaid balance without asking for each; a seller asking for more than
   * that is refused (`PaymentCapError`, cap `prepayUnits`). Capped by the deposit, `maxUnitsPerStream` and
   * `totalBudget`; the unspent part is not captured by a cooperative close. Defaults to 10; 1 signs one
   * voucher per unit, as the seller asks.
   */
  prepayUnits?: bigint;
  /**
   * The prepay window of plain requests: when the last voucher no longer covers a request, the next one
   * covers up to this many requests past what receipts report as spent, and the following requests
   * replay it, which the gate admits without checking the signature again (fewer signatures here, less
   * work there). Bounded by the requests this client sent, not by receipts: a seller holds at most the
   * window beyond `maxUnitsPerRequest` units per request sent (see requestPrepayTarget). Capped by the
   * deposit and `totalBudget`; the unspent part is not captured by a cooperative close. Defaults to 1:
   * one voucher per request, for exactly what it costs.
   */
  prepayRequests?: bigint;
  store?: ClientChannelStore;
  /** The fetch that carries requests; defaults to the global one. */
  fetch?: typeof fetch;
  /** Called whenever a channel's state changes (opened, voucher signed, receipt, top-up, close); never given the session key. */
  onChannelUpdate?: (channel: ClientChannel) => void;
  /** Seconds an EIP-3009 authorization of a relayed open or top-up stays valid; defaults to 3 600. */
  authorizationTtl?: number;
  /**
   * Most seconds a one-time payment's authorization stays valid: a seller's longer x402
   * `maxTimeoutSeconds` or charge `expires` is cut to it. Defaults to 600.
   */
  maxPaymentTimeout?: number;
  /** Where one-time payments are recorded (so that `totalBudget` counts them after a restart); defaults to memory. */
  payments?: OneTimePaymentStore;
};

export type PayingFetch = ((input: string | URL | Request, init?: RequestInit) => Promise<Response>) & {
  /** This payer's channels (a shared store may hold others'), without their session keys. */
  channels(): Promise<ClientChannel[]>;
  /** This payer's one-time payments (charge, x402), each counted at what it lets the seller move. */
  payments(): Promise<OneTimePayment[]>;
  /** What sellers report as charged on channels (from their receipts), plus every one-time payment sent. */
  totalSpent(): Promise<bigint>;
  /** What this client signed away in vouchers and one-time payments: the most it can be charged. */
  totalAuthorized(): Promise<bigint>;
  /** Asks the seller behind `url` (or the channel's last URL) to close the channel cooperatively. */
  close(target: CloseTarget): Promise<CloseResult>;
  /** Starts a forced close on-chain, for a seller that stopped answering. */
  requestClose(channelId: Hex): Promise<Hex>;
  /** Refunds what was never settled, once the grace period after `requestClose` has passed. */
  withdraw(channelId: Hex): Promise<Hex>;
  /**
   * What the client holds and is doing now: payments and closes in flight, channels, totals and the last
   * error. The same object until it changes. While anyone subscribes, up to date when a call returns;
   * without a subscriber the totals are those of the last read, and this starts a read of stale ones.
   */
  getState(): PayingFetchState;
  /**
   * Calls `listener` with the new state after each change (a request paid, a voucher, a receipt, a close);
   * returns the unsubscribe. The totals are read from the stores only while someone subscribes.
   */
  subscribe(listener: (state: PayingFetchState) => void): () => void;
};
