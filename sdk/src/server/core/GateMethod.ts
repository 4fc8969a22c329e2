import type { Address, Hex } from "viem";
import type { PaymentCredential } from "../../protocol/credential.js";
import type { GateChain } from "../chain.js";
import type { ChannelRecord, SessionStore, UsageLabel } from "../store/SessionStore.js";

/**
 * The contract between the gate's core and its payment methods (`session`, `charge`, `x402`). The core
 * prices routes, frames one 402 out of every method's offer, hands a credential to the method that
 * claims it, and runs the handler between `authorize` and `finish`; each method verifies, admits and
 * settles its own credentials.
 */
export type GateMethod = {
  /** The method's name, as `Payment.method` reports it. */
  readonly name: PaymentMethodName;
  /** This method's part of the 402 for `route`, or undefined when it cannot be paid this way. */
  offer(route: PricedRoute, request: Request): PaymentOffer | undefined;
  /**
   * Whether the request carries a credential of this method (a `Payment` one: `input.credential`, whose
   * parse every method shares). The core asks the added methods in their order, then the session,
   * which answers every other `Payment` credential (malformed, or echoing a challenge this gate does
   * not offer): claim only what is surely yours. None claims: a 402 with every offer.
   */
  claims(input: MethodRequest): boolean;
  /** Verifies the credential and holds its cost until the handler answered (see PaidRequest). */
  authorize(input: ClaimedRequest): Promise<Authorization>;
  /**
   * Start-up reads of the chain this method needs (a token's EIP-712 domain…); `gate.ready()` awaits
   * it after the gate's own checks and before pricing routes. A rejection rejects `ready()`.
   */
  ready?(): Promise<void>;
};

/** A request as the core hands it to every method's `claims` and to the claimant's `authorize`. */
export type MethodRequest = {
  request: Request;
  /** The request's `Authorization: Payment …` credential; undefined when it has none (no header, another scheme). */
  credential: PaymentCredentialInput | undefined;
};

/** What the claimant's `authorize` gets: the request as `claims` saw it, and the route priced. */
export type ClaimedRequest = MethodRequest & { route: PricedRoute };

/**
 * A `Payment` credential read once per request by the core and shared by every method it reaches: the
 * charge method's claim and the session's `authorize` look at the same parse. Parsed on first use only,
 * so a request another method claims (x402's own headers) costs no parse.
 */
export type PaymentCredentialInput = {
  /** The `Authorization` header value as received. */
  readonly header: string;
  /**
   * The credential (frozen, payload included), the same object on every call; a malformed one throws
   * its `malformed-credential` PaymentProblemError, the same error on every call.
   */
  parsed(): PaymentCredential;
};

/** Builds a method for one gate; `createPaymentGate({ methods })` takes these. */
export type GateMethodFactory = (context: GateContext) => GateMethod;

/** What the core shares with every method. */
export type GateContext = {
  /** Clients (the wallet client signs with the seller's account and pays gas), escrow, confirmations, timeout. */
  chain: GateChain;
  /** The gate's scoped view of its store. */
  store: SessionStore;
  chainId: number;
  /** The ERC-20 the gate charges in. */
  currency: Address;
  /** Where payments go. */
  recipient: Address;
  /** Protection space named in Payment challenges. */
  realm: string;
  /** Makes challenge ids unforgeable (HMAC key). */
  secret: string | Uint8Array;
  /** Seconds a challenge stays valid. */
  challengeTtl: number;
  /** The gate's clock, in milliseconds. */
  now(): number;
};

export type PaymentMethodName = "session" | "charge" | "x402";

/** A route as every method sees it: prices in base units, defaults applied. */
export type PricedRoute = {
  /** The route's stable name, recorded with each charge and payment for usage reports. */
  name: string;
  /** Price of one unit, in the currency's base units. */
  amount: bigint;
  unitType?: string;
  description?: string;
  currency: Address;
  recipient: Address;
  chainId: number;
  /** Units one request consumes (1 unless the route meters). */
  units(request: Request): bigint;
  /** Which response statuses are charged. */
  billable(status: number): boolean;
  /** Deposit a new session channel should hold, in base units (the session method's; the core fills it). */
  suggestedDeposit?: bigint;
  /** Smallest raise a new session voucher may make, in base units (0: any). */
  minVoucherDelta?: bigint;
  /** Smallest deposit the gate pays gas to open or top up (feePayer), in base units. */
  minRelayedDeposit?: bigint;
};

/** What usage reports file a route's charges and payments under: its name, and its unit type or "request". */
export function usageLabel(route: PricedRoute): UsageLabel {
  return { route: route.name, unitType: route.unitType ?? "request" };
}

/** One method's part of a 402. The core merges every method's part into one response. */
export type PaymentOffer = {
  /** `WWW-Authenticate` values: challenges of the Payment scheme. */
  wwwAuthenticate?: string[];
  /** Other headers (x402 v2's `PAYMENT-REQUIRED`). */
  headers?: Record<string, string>;
  /** Members merged into the 402's JSON problem body (x402 v1's `x402Version`, `accepts`, `error`). */
  body?: Record<string, unknown>;
};

/** What a paid handler learns about the payment it is served under. */
export type Payment = SessionPayment | OneTimePayment;

/** A request paid from a session's channel. */
export type SessionPayment = {
  method: "session";
  channelId: Hex;
  /** Id of the challenge the credential answered; receipts carry it. */
  challengeId: string;
  payer: Address;
  /** Units charged for this request. */
  units: bigint;
  /** The channel's accounting when the request was admitted. */
  channel: ChannelRecord;
  /** The route name and unit type its charges are recorded under (a metered stream's too). */
  usage: UsageLabel;
};

/** A request paid by its own transfer (MPP charge, x402 exact), settled before its response leaves. */
export type OneTimePayment = {
  method: "charge" | "x402";
  payer: Address;
  /** Units charged for this request. */
  units: bigint;
  /** The amount the payer authorized, in base units. */
  amount: bigint;
  /** The EIP-3009 authorization's nonce: the payment's identity. */
  nonce: Hex;
  /** Id of the challenge the credential answered (charge only). */
  challengeId?: string;
};

/**
 * What `authorize` makes of a request: the gate's own answer (a 402, a problem, or the answer to a
 * management credential), or a paid request whose cost is held until the handler has answered.
 */
export type Authorization = { response: Response } | PaidRequest;

export type PaidRequest = {
  response?: undefined;
  payment: Payment;
  /**
   * Commits the held cost (a one-time payment: settles it on-chain), or releases it when the billing rule
   * does not charge `status`; resolves with the receipt headers the response must carry. Call it before
   * any byte of the response leaves.
   */
  finish(status: number): Promise<Record<string, string>>;
  /** Releases the held cost: the handler failed and delivered nothing. */
  release(): Promise<void>;
  /** The gate's answer to an error `finish` or `release` threw (a 503 when the store failed), or undefined. */
  problem(error: unknown): Response | undefined;
};
