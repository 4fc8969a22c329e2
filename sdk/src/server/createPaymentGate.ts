import { type Account, type Address, type Chain, createPublicClient, createWalletClient, type Hex, http, type Transport } from "viem";
import type { PaymentChallenge } from "../protocol/challenge.js";
import type { SessionRequest } from "../session/request.js";
import { defaultPollingInterval } from "../transactions/defaultPollingInterval.js";
import type { GateChain } from "./chain.js";
import { checkGateConfig } from "./checkGateConfig.js";
import { createGateRoute, type PaidHandler, type SessionRouteParameters } from "./core/createGateRoute.js";
import { createReadiness } from "./core/createReadiness.js";
import type { Authorization, GateContext, GateMethodFactory, PaidRequest, Payment } from "./core/GateMethod.js";
import { currencyMethods } from "./methods/currencyMethods.js";
import { recoverPendingPayments } from "./methods/recoverPendingPayments.js";
import { createSessionMethod } from "./methods/session/createSessionMethod.js";
import type { SessionMethodParameters } from "./methods/session/SessionContext.js";
import type { Price } from "./parsePrice.js";
import { scopeStore } from "./scopedStore.js";
import type { ChannelRecord, ChargeRecord, PaymentRecord, SessionStore } from "./store/SessionStore.js";

export type { Authorization, PaidHandler, PaidRequest, Payment, Price, SessionMethodParameters, SessionRouteParameters };

/** The gate's options; the session method's own (fee paying, charge mode, idempotency, contract wallets) are SessionMethodParameters. */
export type PaymentGateParameters = SessionMethodParameters & {
  /** The chain the escrow lives on (a viem chain; its id goes into every challenge). */
  chain: Chain;
  /** The escrow contract. */
  escrow: Address;
  /** The ERC-20 the gate charges in. */
  currency: Address;
  /** The seller's account: receives payments and signs settle and close transactions. */
  account: Account;
  /**
   * Where payments go: `account.address`, the default. Another address is refused at creation, since
   * settlement through the recipient's payee authorization is not supported yet.
   */
  recipient?: Address;
  store: SessionStore;
  /** Secret that makes challenge ids unforgeable; every instance of the server shares it (≥ 32 bytes; by convention `TOLLGATE_SECRET`). */
  secret: string | Uint8Array;
  /** The currency's decimals, for prices written as decimal strings; read from the token by `ready()` when not given (and checked against it when given). */
  decimals?: number;
  /** Which response statuses are charged (reserve mode); defaults to those below 400. A route's own `billable` wins. */
  billable?: (status: number) => boolean;
  /** RPC transport; defaults to the chain's first RPC URL. */
  transport?: Transport;
  /** Protection space named in challenges; defaults to `"tollgate"`. */
  realm?: string;
  /** Seconds a challenge stays valid; defaults to 900. */
  challengeTtl?: number;
  /** Blocks that must include a client's open or top-up; defaults to 1. */
  confirmations?: number;
  /** Milliseconds to wait for a receipt; defaults to 60 000. */
  transactionTimeout?: number;
  /**
   * Milliseconds between receipt polls of the gate's own transactions (relayed opens and top-ups, settles,
   * closes); defaults to half the chain's block time (see defaultPollingInterval): 1 s on Base, 100 ms on
   * a local chain. A client's funding is looked up once a second within `receiptTimeout`.
   */
  pollingInterval?: number;
  /**
   * Payment methods offered beside the session (which is always offered, first): each factory builds
   * one method for this gate (see GateMethod). Defaults to every method the currency supports:
   * `charge()` and `x402()` when `ready()` finds that the token implements EIP-3009, else none.
   * `[]` offers the session only.
   */
  methods?: GateMethodFactory[];
  /** Clock in milliseconds, for tests. */
  now?: () => number;
};

export type SessionRoute = {
  /** The fetch-style core: answers 402 with a challenge, verifies credentials, charges, and calls `handler`. */
  handle(request: Request, handler: PaidHandler): Promise<Response>;
  /**
   * The paid part of `handle` for a framework whose handlers are not fetch-style (the middlewares use it):
   * serve `response` as is, or run the handler under `payment` and `finish` (or `release`) the charge.
   */
  authorize(request: Request): Promise<Authorization>;
  /**
   * The 402 challenge this route issues, optionally suggesting an existing channel. With a decimal price
   * and no `decimals` option, this and `request` need `await gate.ready()` first.
   */
  challenge(channelId?: Hex): PaymentChallenge;
  /** What the route asks for, amounts in base units. */
  readonly request: SessionRequest;
};

export type PaymentGate = {
  session(parameters: SessionRouteParameters): SessionRoute;
  /**
   * Checks the configuration against the chain (chain id, escrow, grace period, currency and its
   * decimals) and prices every route; rejects with a ConfigurationError naming what is wrong (an
   * RpcError when the RPC cannot be reached: call again). Idempotent; the first `handle` awaits it.
   */
  ready(): Promise<void>;
  /** This gate's view of its store: only records of its chain, escrow, currency and recipient (see scopeStore). */
  readonly store: SessionStore;
  readonly chain: GateChain;
  readonly recipient: Address;
  /** The ERC-20 the gate charges in. */
  readonly currency: Address;
  /** The id of the chain the escrow lives on. */
  readonly chainId: number;
  /** Protection space named in challenges (the `realm` option). */
  readonly realm: string;
  /** Called with every channel whose accounting changed; the settlement service subscribes here. */
  onChannelUpdate(listener: (channel: ChannelRecord) => void): () => void;
  /** Closes a stored channel on-chain with the highest voucher held; resolves with the closed record. */
  closeChannel(channelId: Hex): Promise<ChannelRecord>;
  /** Reports a change of a channel's accounting to the `onChannelUpdate` listeners. */
  publish(channel: ChannelRecord): void;
  /** Current time in milliseconds (the gate's clock). */
  now(): number;
  /**
   * Releases reservations that requests left behind when the process died between admitting them and
   * finishing them (their responses never left: a charge is committed before its response is sent).
   * Call it once at start-up, before serving. With several instances on one store, pass `olderThan`
   * (milliseconds) above the longest a request can take, so that other instances' requests in flight
   * keep theirs. Resolves with the charges released.
   */
  recover(options?: { olderThan?: number }): Promise<ChargeRecord[]>;
  /**
   * Resolves one-time payments (charge, x402) left `pending` by a process that died before settling
   * them, from the chain: `settled` when the authorization was used, `released` when it was not (its
   * response never left: nothing is transferred). See recoverPendingPayments. Call it at start-up beside
   * `recover`, with the same `olderThan`; the settlement service also runs it. Resolves with the records changed.
   */
  recoverPayments(options?: { olderThan?: number }): Promise<PaymentRecord[]>;
};

const DEFAULT_CHALLENGE_TTL = 900;

/**
 * Creates the seller's gate: the `evm` session method, and beside it `methods` (by default every method
 * the currency supports), on priced routes
 * (see `session()`). The core (core/) frames the 402 and runs the handler; each method verifies,
 * admits and settles its own credentials.
 */
export function createPaymentGate(parameters: PaymentGateParameters): PaymentGate {
  const { chain: viemChain, escrow, currency, account } = parameters;
  const { recipient } = checkGateConfig(parameters);
  const transport = parameters.transport ?? http();
  const pollingInterval = parameters.pollingInterval ?? defaultPollingInterval(viemChain);
  const chain: GateChain = {
    publicClient: createPublicClient({ chain: viemChain, transport, pollingInterval }),
    walletClient: createWalletClient({ chain: viemChain, transport, account, pollingInterval }),
    escrow,
    confirmations: parameters.confirmations ?? 1,
    timeout: parameters.transactionTimeout ?? 60_000,
  };
  const context: GateContext = {
    chain,
    // Every path (admission, close, recovery, the settlement service through `gate.store`) sees only this
    // gate's records: another gate's on a shared store reads as unknown and is never written.
    store: scopeStore({ store: parameters.store, scope: { chainId: viemChain.id, escrow, token: currency, payee: recipient } }),
    chainId: viemChain.id,
    currency,
    recipient,
    realm: parameters.realm ?? "tollgate",
    secret: parameters.secret,
    challengeTtl: parameters.challengeTtl ?? DEFAULT_CHALLENGE_TTL,
    now: parameters.now ?? Date.now,
  };
  const session = createSessionMethod(parameters)(context);
  const added = parameters.methods ?? currencyMethods({ decimals: parameters.decimals });
  const methods = [session, ...added.map((factory) => factory(context))];
  const readiness = createReadiness({ chain, expected: viemChain, currency, decimals: parameters.decimals, methods });
  const billable = parameters.billable ?? ((status: number) => status < 400);

  return {
    session(route) {
      const { priced, handle, authorize } = createGateRoute({ route, context, methods, billable, readiness });
      return {
        handle,
        authorize,
        challenge: (channelId) => session.challenge(priced(), channelId),
        get request() {
          return session.request(priced());
        },
      };
    },
    ready: readiness.ready,
    store: context.store,
    chain,
    recipient,
    currency,
    chainId: viemChain.id,
    realm: context.realm,
    onChannelUpdate: session.onChannelUpdate,
    closeChannel: session.closeChannel,
    publish: session.publish,
    now: context.now,
    recover: session.recover,
    recoverPayments: ({ olderThan } = {}) => recoverPendingPayments({ context, ...(olderThan === undefined ? {} : { olderThan }) }),
  };
}
