import {
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  type Hex,
  http,
  isAddressEqual,
  type Transport,
  zeroAddress,
} from "viem";
import type { Channel } from "../channel/Channel.js";
import { canonicalJson } from "../protocol/canonicalJson.js";
import {
  computeChallengeId,
  decodeChallengeRequest,
  encodeChallengeRequest,
  formatChallenge,
  isChallengeIdValid,
  type PaymentChallenge,
} from "../protocol/challenge.js";
import { parseCredential } from "../protocol/credential.js";
import { PaymentProblemError } from "../protocol/problems.js";
import { ConfigurationError } from "../errors/ConfigurationError.js";
import { formatReceipt } from "../protocol/receipt.js";
import { type ClosePayload, parseSessionPayload, type SessionPayload } from "../session/payload.js";
import { formatSessionRequest, type SessionRequest } from "../session/request.js";
import { isSignedBy } from "../crypto/isSignedBy.js";
import { recoverVoucherSigner } from "../voucher/recoverVoucherSigner.js";
import { signatureBytes } from "../voucher/signatureBytes.js";
import { voucherDigestBytes } from "../voucher/voucherDigestBytes.js";
import { verifyVoucher } from "../voucher/verifyVoucher.js";
import { closeChannel } from "../transactions/closeChannel.js";
import { acceptVoucher, available, finishCharge, insufficientBalance, type VerifiedVoucher, reserve } from "./accounting.js";
import { applyFinalVoucher } from "./applyFinalVoucher.js";
import { createCodeCache, type GateChain, onChain, readLiveChannel } from "./chain.js";
import { checkGateChain } from "./checkGateChain.js";
import { checkGateConfig } from "./checkGateConfig.js";
import { createFunding } from "./createFunding.js";
import { createRelayLimiter, type RelayRateLimit } from "./createRelayLimiter.js";
import { requestChargeKey } from "./idempotency.js";
import { assertAdmissible } from "./assertAdmissible.js";
import { assertContractSignerCredit, DEFAULT_CONTRACT_SIGNER_CREDIT } from "./contractSignerCredit.js";
import type { Price } from "./parsePrice.js";
import { PROBLEM_HEADERS, problemResponse, statusProblem } from "./problemResponse.js";
import { type RoutePrices, routePrices } from "./routePrices.js";
import { scopeStore } from "./scopedStore.js";
import type { ChannelRecord, ChargeRecord, SessionStore } from "./store/SessionStore.js";
import type { GateMethod, GateMethodFactory, PricedRoute } from "./core/GateMethod.js";

export type PaymentGateParameters = {
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
  /** Pay the gas of clients' opens and top-ups (EIP-3009 authorizations); defaults to false. */
  feePayer?: boolean;
  /** With `feePayer`: transactions relayed per payer and per channel (a token bucket); defaults to 4 at once, then one per 10 s. */
  relayRateLimit?: RelayRateLimit;
  /**
   * Milliseconds to look for the receipt of a client's own open or top-up (type hash) before answering
   * 402 with Retry-After; defaults to 3 000.
   */
  receiptTimeout?: number;
  /** `"reserve"` (default): hold the price, charge only when the response is `billable`. `"charge"`: charge before the handler. */
  chargeMode?: "reserve" | "charge";
  /** Seconds an Idempotency-Key stays bound to the request it paid for; defaults to 86 400 (a day). */
  idempotencyKeyTtl?: number;
  /**
   * Most service (base units) delivered on a channel whose vouchers a contract wallet signs (ERC-1271)
   * before settlement catches up; beyond it requests get 429 `settlement-pending`. Such a wallet can
   * revoke its signatures. Defaults to 1 000 000 (1.00 of a 6-decimal stablecoin); null: no limit.
   */
  contractSignerCredit?: bigint | null;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
  /**
   * Per-request methods offered beside the session on every route (`x402()`, `charge()` from
   * tollgate/server). Interim hook (h9-server-methods) until the gate's core composes every method.
   */
  methods?: GateMethodFactory[];
};

export type SessionRouteParameters = {
  /** Price per unit: a decimal string in the currency's units (`"0.01"`) or base units (`10_000n`). */
  amount: Price;
  /** What a unit is (`"request"`, `"photo"`, `"llm_token"`…). */
  unitType?: string;
  /** Deposit a new channel should hold (a price, as `amount`); defaults to 100 units. */
  suggestedDeposit?: Price;
  /** Smallest raise a new voucher may make (a price, as `amount`); defaults to 0 (any). */
  minVoucherDelta?: Price;
  /**
   * Smallest deposit the server pays gas to open (with `feePayer`); defaults to one unit. Raise it to
   * make gas-griefing with tiny relayed opens unprofitable; clients learn it only from the refusal.
   */
  minRelayedDeposit?: Price;
  description?: string;
  /** Which response statuses are charged; defaults to the gate's `billable`. */
  billable?: (status: number) => boolean;
  /** Units one request consumes; defaults to 1. Streams meter their own units instead. */
  units?: (request: Request) => bigint;
};

/** What a paid handler learns about the payment it is served under. */
export type Payment = {
  channelId: Hex;
  /** Id of the challenge the credential answered; receipts carry it. */
  challengeId: string;
  payer: Address;
  /** Units charged for this request. */
  units: bigint;
  /** The channel's accounting when the request was admitted. */
  channel: ChannelRecord;
};

export type PaidHandler = (request: Request, payment: Payment) => Response | Promise<Response>;

/**
 * What `authorize` makes of a request: the gate's own answer (a 402, a problem, or the answer to a
 * management credential: close, top-up, a voucher sent with HEAD), or a paid request whose cost is held
 * until the framework's handler has answered.
 */
export type Authorization = { response: Response } | PaidRequest;

export type PaidRequest = {
  response?: undefined;
  payment: Payment;
  /**
   * Commits the held cost, or releases it when the gate's billing rule does not charge `status`; resolves
   * with the receipt headers the response must carry. Call it before any byte of the response leaves.
   */
  finish(status: number): Promise<Record<string, string>>;
  /** Releases the held cost: the handler failed and delivered nothing. */
  release(): Promise<void>;
  /** The gate's answer to an error `finish` or `release` threw (a 503 when the store failed), or undefined. */
  problem(error: unknown): Response | undefined;
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
};

const DEFAULT_CHALLENGE_TTL = 900;
const DEFAULT_RECEIPT_TIMEOUT = 3_000;
const MAX_KNOWN_SIGNERS = 50_000;
/** A channel's identity for voucher verification: fixed at open, so it can be remembered. */
type ChannelSigner = Pick<ChannelRecord, "channelId" | "payer" | "authorizedSigner">;
/** Thrown inside an admission that started from a remembered signer but needs the full slow path. */
const RETRY_FROM_STORE = Symbol("retry from the stored channel");
const MAX_VERIFIED_CHALLENGES = 10_000;
const DEFAULT_IDEMPOTENCY_KEY_TTL = 86_400;

/** Creates the seller's side of the `evm` session method; see `session()` for per-route pricing. */
export function createPaymentGate(parameters: PaymentGateParameters): PaymentGate {
  const {
    chain: viemChain,
    escrow,
    currency,
    account,
    secret,
    realm = "tollgate",
    challengeTtl = DEFAULT_CHALLENGE_TTL,
    feePayer = false,
    chargeMode = "reserve",
    idempotencyKeyTtl = DEFAULT_IDEMPOTENCY_KEY_TTL,
    contractSignerCredit = DEFAULT_CONTRACT_SIGNER_CREDIT,
    now = Date.now,
  } = parameters;
  const { recipient } = checkGateConfig(parameters);
  const billable = parameters.billable ?? ((status: number) => status < 400);
  // Every path (admission, close, recovery, the settlement service through `gate.store`) sees only this
  // gate's records: another gate's on a shared store reads as unknown and is never written.
  const store = scopeStore({ store: parameters.store, scope: { chainId: viemChain.id, escrow, token: currency, payee: recipient } });
  const transport = parameters.transport ?? http();
  const chain: GateChain = {
    publicClient: createPublicClient({ chain: viemChain, transport }),
    walletClient: createWalletClient({ chain: viemChain, transport, account }),
    escrow,
    confirmations: parameters.confirmations ?? 1,
    timeout: parameters.transactionTimeout ?? 60_000,
  };
  const hasCode = createCodeCache(chain.publicClient);
  const listeners = new Set<(channel: ChannelRecord) => void>();
  // Signers of channels this gate has stored. A voucher on one of them is verified and admitted in one
  // transaction, without first reading the channel from the store.
  const storedSigners = new Map<Hex, ChannelSigner>();
  const rememberSigner = ({ channelId, payer, authorizedSigner }: ChannelRecord) => {
    if (storedSigners.has(channelId)) return;
    if (storedSigners.size >= MAX_KNOWN_SIGNERS) storedSigners.clear();
    storedSigners.set(channelId, { channelId, payer, authorizedSigner });
  };
  // The currency's decimals: the option, else what ready() read from the token.
  let decimals = parameters.decimals;
  // Routes whose prices ready() checks (a decimal string needs the decimals).
  const routes = new Set<() => void>();
  let readiness: Promise<void> | undefined;
  // Interim hook (h9-server-methods): the per-request methods, each built once for this gate.
  const methods: (GateMethod & { ready?(): Promise<void> })[] = (parameters.methods ?? []).map((factory) =>
    factory({ chain, store, chainId: viemChain.id, currency, recipient, realm, secret, challengeTtl, now }),
  );
  const ready = () =>
    (readiness ??= checkGateChain({ chain, expected: viemChain, currency, decimals: parameters.decimals })
      .then(async (read) => {
        for (const method of methods) await method.ready?.();
        decimals = read;
        for (const price of routes) price();
      })
      .catch((error) => {
        // A configuration error stays one; an RPC that could not be reached is asked again next time.
        if (!(error instanceof ConfigurationError)) readiness = undefined;
        throw error;
      }));

  const publish = (channel: ChannelRecord) => {
    for (const listener of listeners) listener(channel);
  };

  /**
   * Steps 3–5 of voucher verification: a canonical signature by the channel's signer (EOA, else
   * ERC-1271). Resolves with whether a contract wallet vouched for it (ERC-1271).
   */
  async function verifySignature(channel: ChannelSigner, voucher: VerifiedVoucher): Promise<boolean> {
    const signer = channel.authorizedSigner === zeroAddress ? channel.payer : channel.authorizedSigner;
    const fields = { chainId: viemChain.id, escrow, channelId: channel.channelId, cumulativeAmount: voucher.cumulativeAmount };
    // The usual case, an EOA signature by the expected signer, costs one native recovery and a compare
    // with the signer's remembered public key (no address derivation, no checksumming).
    const bytes = signatureBytes(voucher.signature);
    if (bytes !== null && isSignedBy(voucherDigestBytes(fields), bytes, signer)) return false;
    const recovered = recoverVoucherSigner({ ...fields, signature: voucher.signature });
    const valid =
      (await hasCode(signer)) &&
      (await onChain("ask the signer's wallet", () =>
        verifyVoucher({ ...fields, signature: voucher.signature, signer, client: chain.publicClient }),
      ));
    if (!valid) {
      throw new PaymentProblemError(recovered === null ? "invalid-signature" : "signer-mismatch", {
        detail: recovered === null ? "The voucher signature is not a valid canonical signature" : "The voucher is not signed by the channel's signer",
        extensions: { channelId: channel.channelId },
      });
    }
    return true;
  }

  /** Checks the on-chain channel is one this gate may accept: its payee, its token, room for one unit. */
  function assertAcceptable(channel: Channel, channelId: Hex, price: bigint) {
    const reason = !isAddressEqual(channel.payee, recipient)
      ? "its payee is not this server's recipient"
      : !isAddressEqual(channel.token, currency)
        ? "its token is not this server's currency"
        : channel.deposit - channel.settled < price
          ? "its remaining deposit does not cover one unit"
          : undefined;
    if (reason) throw new PaymentProblemError("verification-failed", { detail: `Channel ${channelId} cannot be used: ${reason}`, extensions: { channelId } });
  }

  function newRecord(channelId: Hex, channel: Channel, at: number): ChannelRecord {
    return {
      channelId,
      chainId: viemChain.id,
      escrow,
      payer: channel.payer,
      payee: channel.payee,
      token: channel.token,
      authorizedSigner: channel.authorizedSigner,
      deposit: channel.deposit,
      settledOnChain: channel.settled,
      // What was settled before this server knew the channel was paid for and delivered.
      acceptedCumulative: channel.settled,
      acceptedSignature: null,
      spent: channel.settled,
      reserved: 0n,
      units: 0n,
      closeRequestedAt: channel.closeRequestedAt,
      status: "open",
      lastTxHash: null,
      createdAt: at,
      updatedAt: at,
    };
  }

  /** Stores a channel first seen on-chain (after its credential verified), unless another request stored it meanwhile. */
  async function adopt(record: ChannelRecord): Promise<ChannelRecord> {
    return store.withChannel(record.channelId, async (tx) => {
      if (tx.channel) return tx.channel;
      await tx.putChannel(record);
      return record;
    });
  }

  /**
   * The stored channel, or one that exists on-chain for this seller. A channel first seen here is not
   * stored yet: the draft initializes accounting only once the voucher verified, so a request that
   * fails verification leaves the store as it was.
   */
  async function knownChannel(channelId: Hex, price: bigint): Promise<ChannelRecord> {
    const stored = await store.getChannel(channelId);
    if (stored) return stored;
    const onChainChannel = await readLiveChannel(chain, channelId);
    assertAcceptable(onChainChannel, channelId, price);
    return newRecord(channelId, onChainChannel, now());
  }

  /**
   * Re-reads the deposit when a verified voucher goes beyond the one on record (a top-up this server
   * missed). Nothing is stored here: the admission transaction takes the higher deposit.
   */
  async function refreshDeposit(record: ChannelRecord, cumulativeAmount: bigint): Promise<ChannelRecord> {
    if (cumulativeAmount <= record.deposit) return record;
    const onChainChannel = await readLiveChannel(chain, record.channelId);
    if (onChainChannel.closeRequestedAt !== 0n) {
      throw new PaymentProblemError("channel-finalized", { detail: "A forced close is pending on this channel", extensions: { channelId: record.channelId } });
    }
    if (onChainChannel.deposit <= record.deposit) return record;
    return { ...record, deposit: onChainChannel.deposit };
  }

  const { openWithAuthorization, topUpWithAuthorization, openWithHash, topUpWithHash } = createFunding({
    chain,
    chainId: viemChain.id,
    currency,
    recipient,
    store,
    feePayer,
    relayLimiter: createRelayLimiter({ ...parameters.relayRateLimit, now }),
    receiptTimeout: parameters.receiptTimeout ?? DEFAULT_RECEIPT_TIMEOUT,
    now,
    acceptable: (channelId, channel, price) => {
      assertAcceptable(channel, channelId, price);
      return newRecord(channelId, channel, now());
    },
    verifySignature,
  });

  /** The `close` action: the client's final voucher closes on-chain if it covers what was delivered, else the highest held. */
  async function closeAction(payload: ClosePayload, price: bigint, challenge: PaymentChallenge): Promise<Response> {
    const record = await knownChannel(payload.channelId, price);
    const voucher = { cumulativeAmount: payload.cumulativeAmount, signature: payload.signature };
    await verifySignature(record, voucher);
    await adopt(record);
    const closed = await closeWithHighestVoucher(payload.channelId, (current) => applyFinalVoucher(current, voucher));
    const receipt = receiptFor(closed, challenge, { txHash: closed.lastTxHash! });
    return Response.json(
      {
        channelId: closed.channelId,
        settled: closed.settledOnChain.toString(),
        refund: (closed.deposit - closed.settledOnChain).toString(),
        txHash: closed.lastTxHash,
      },
      { headers: receiptHeaders(receipt) },
    );
  }

  /**
   * Closes a channel on-chain with the voucher the store holds after `update` (the highest accepted, or
   * the client's final one for what was delivered). The channel is marked `closing` before the
   * transaction and `closed` after it, so a crash in between is visible and reconciled from the chain.
   */
  async function closeWithHighestVoucher(channelId: Hex, update: (channel: ChannelRecord) => ChannelRecord = (c) => c): Promise<ChannelRecord> {
    const closing = await store.withChannel(channelId, async (tx) => {
      const current = tx.channel;
      if (!current) throw new PaymentProblemError("channel-not-found", { extensions: { channelId } });
      if (current.status === "closed") throw new PaymentProblemError("channel-finalized", { extensions: { channelId } });
      const updated: ChannelRecord = { ...update(current), status: "closing", updatedAt: now() };
      await tx.putChannel(updated);
      return updated;
    });
    const { hash } = await onChain("close the channel", () =>
      closeChannel({
        client: chain.walletClient,
        publicClient: chain.publicClient,
        timeout: chain.timeout,
        escrow,
        channelId,
        cumulativeAmount: closing.acceptedCumulative,
        ...(closing.acceptedSignature === null ? {} : { signature: closing.acceptedSignature }),
      }),
    );
    const closed = await store.withChannel(channelId, async (tx) => {
      const current = tx.channel ?? closing;
      const settledOnChain = closing.acceptedCumulative > current.settledOnChain ? closing.acceptedCumulative : current.settledOnChain;
      const updated: ChannelRecord = { ...current, status: "closed", settledOnChain, lastTxHash: hash, updatedAt: now() };
      await tx.putChannel(updated);
      return updated;
    });
    publish(closed);
    return closed;
  }

  function receiptFor(channel: ChannelRecord, challenge: PaymentChallenge, extra: { units?: bigint; txHash?: Hex } = {}) {
    return {
      method: "evm",
      intent: "session",
      status: "success" as const,
      timestamp: new Date(now()).toISOString(),
      reference: channel.channelId,
      challengeId: challenge.id,
      channelId: channel.channelId,
      chainId: viemChain.id,
      acceptedCumulative: channel.acceptedCumulative.toString(),
      spent: channel.spent.toString(),
      ...(extra.units === undefined ? {} : { units: Number(extra.units) }),
      ...(extra.txHash === undefined ? {} : { txHash: extra.txHash }),
    };
  }

  function session(route: SessionRouteParameters): SessionRoute {
    let built: SessionRoute | undefined;
    const build = () => {
      if (built) return built;
      const prices = routePrices(route, decimals);
      if (prices === undefined) {
        const option = (["amount", "suggestedDeposit", "minVoucherDelta", "minRelayedDeposit"] as const).find((name) => typeof route[name] === "string")!;
        throw new ConfigurationError(option, `\`${option}\` ${JSON.stringify(route[option])} needs the currency's decimals: \`await gate.ready()\` first, or pass \`decimals\``);
      }
      return (built = pricedRoute(route, prices));
    };
    // Every malformed price is refused now; a decimal string waiting for the token's decimals, in ready().
    if (routePrices(route, decimals) === undefined) routes.add(build);
    else build();
    /** Undefined once the gate passed its start-up checks, else the 503 every request gets meanwhile. */
    const unready = async (): Promise<Response | undefined> => {
      try {
        await ready();
        return undefined;
      } catch (error) {
        // Nothing about the configuration reaches the client: the seller learns it from ready().
        return (
          problemResponse(error, () => "") ??
          new Response(JSON.stringify(statusProblem(503, "Service Unavailable", "The payment gate failed its start-up checks")), { status: 503, headers: PROBLEM_HEADERS })
        );
      }
    };
    return {
      handle: async (request, handler) => (await unready()) ?? build().handle(request, handler),
      authorize: async (request) => {
        const response = await unready();
        return response ? { response } : build().authorize(request);
      },
      challenge: (channelId) => build().challenge(channelId),
      get request() {
        return build().request;
      },
    };
  }

  /** A route whose prices are known in base units. */
  function pricedRoute(route: SessionRouteParameters, { amount, suggestedDeposit, minVoucherDelta, minRelayedDeposit }: RoutePrices): SessionRoute {
    const routeBillable = route.billable ?? billable;
    const units = route.units ?? (() => 1n);
    const request: SessionRequest = {
      amount,
      ...(route.unitType === undefined ? {} : { unitType: route.unitType }),
      suggestedDeposit,
      currency,
      recipient,
      ...(route.description === undefined ? {} : { description: route.description }),
      methodDetails: {
        chainId: viemChain.id,
        escrowContract: escrow,
        ...(minVoucherDelta === 0n ? {} : { minVoucherDelta }),
        ...(feePayer ? { feePayer: true, credentialTypes: ["authorization", "hash"] } : {}),
      },
    };
    const canonicalRequest = canonicalJson(formatSessionRequest(request));
    // The `request` parameter of this route's own challenges (those without a suggested channel).
    const encodedRequest = encodeChallengeRequest(formatSessionRequest(request));
    // Challenges already verified for this route, keyed by every field the id covers besides the three
    // constants checked below. A client pays many requests under one challenge, so this spares the
    // HMAC and the decoding of its request on all but the first; only the expiry is checked each time.
    const verifiedChallenges = new Set<string>();

    function challenge(channelId?: Hex): PaymentChallenge {
      const withChannel = channelId === undefined ? request : { ...request, methodDetails: { ...request.methodDetails, channelId } };
      const fields = {
        realm,
        method: "evm",
        intent: "session",
        request: channelId === undefined ? encodedRequest : encodeChallengeRequest(formatSessionRequest(withChannel)),
        expires: new Date(now() + challengeTtl * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
      };
      return { id: computeChallengeId({ ...fields, secret }), ...fields, ...(route.description ? { description: route.description } : {}) };
    }

    /** The draft's common verification: a challenge this server issued for this route, unexpired. */
    function verifyChallenge(echoed: PaymentChallenge) {
      if (echoed.realm !== realm || echoed.method !== "evm" || echoed.intent !== "session") {
        throw new PaymentProblemError("challenge-not-found", { detail: "The credential does not echo a challenge this server issued" });
      }
      const key = `${echoed.id}|${echoed.request}|${echoed.expires ?? ""}|${echoed.digest ?? ""}|${echoed.opaque ?? ""}`;
      if (!verifiedChallenges.has(key)) {
        if (!isChallengeIdValid(echoed, secret)) {
          throw new PaymentProblemError("challenge-not-found", { detail: "The credential does not echo a challenge this server issued" });
        }
        if (echoed.request !== encodedRequest) {
          const issued = decodeChallengeRequest(echoed.request);
          const { channelId: _suggested, ...details } = (issued.methodDetails ?? {}) as Record<string, unknown>;
          // A challenge issued for another route (another price) is not accepted here.
          if (canonicalJson({ ...issued, methodDetails: details }) !== canonicalRequest) {
            throw new PaymentProblemError("challenge-not-found", { detail: "The challenge was issued for a different price or route" });
          }
        }
        if (verifiedChallenges.size >= MAX_VERIFIED_CHALLENGES) verifiedChallenges.clear();
        verifiedChallenges.add(key);
      }
      const expires = echoed.expires === undefined ? Number.NaN : Date.parse(echoed.expires);
      if (!(expires > now())) throw new PaymentProblemError("challenge-not-found", { detail: "The challenge has expired" });
    }

    // Interim hook (h9-server-methods): the route as the per-request methods see it, and their offers merged into the 402.
    const priced: PricedRoute = { amount, currency, recipient, chainId: viemChain.id, units, billable: routeBillable, ...(route.unitType === undefined ? {} : { unitType: route.unitType }), ...(route.description === undefined ? {} : { description: route.description }) };
    const paymentRequired = (httpRequest: Request) => {
      const offers = methods.flatMap((method) => method.offer(priced, httpRequest) ?? []);
      const headers = new Headers({ "www-authenticate": formatChallenge(challenge()), "cache-control": "no-store", "content-type": "application/problem+json" });
      for (const offer of offers) {
        for (const value of offer.wwwAuthenticate ?? []) headers.append("www-authenticate", value);
        for (const [name, value] of Object.entries(offer.headers ?? {})) headers.set(name, value);
      }
      const body = { type: "https://paymentauth.org/problems/payment-required", title: "Payment Required", status: 402, detail: route.description ?? "This resource requires payment" };
      return new Response(JSON.stringify(Object.assign(body, ...offers.map((offer) => offer.body ?? {}))), { status: 402, headers });
    };

    /** Funding actions, in the order the draft verifies them; returns the channel and any voucher to accept. */
    /**
     * Funding actions, in the order the draft verifies them; returns the channel (not read when only its
     * remembered signer is needed: a plain voucher on a stored channel) and any voucher to accept.
     */
    async function admit(
      payload: Exclude<SessionPayload, ClosePayload>,
      source: string | undefined,
      useStoredSigner: boolean,
    ): Promise<{ record?: ChannelRecord; signer: ChannelSigner; voucher?: VerifiedVoucher }> {
      switch (payload.action) {
        case "open": {
          const signature = payload.type === "hash" ? payload.signature : payload.voucherSignature;
          const voucher = { cumulativeAmount: payload.cumulativeAmount, signature };
          const record =
            payload.type === "hash"
              ? await openWithHash(payload, source, amount)
              : await openWithAuthorization(payload, voucher, amount, minRelayedDeposit);
          return { record, signer: record, voucher };
        }
        case "topUp": {
          const known = await knownChannel(payload.channelId, amount);
          const record = payload.type === "hash" ? await topUpWithHash(payload, known) : await topUpWithAuthorization(payload, known, minRelayedDeposit);
          return { record, signer: record };
        }
        case "voucher": {
          const voucher = { cumulativeAmount: payload.cumulativeAmount, signature: payload.signature };
          // A deposit that opens the channel comes first: there is no channel to look up before it.
          if (payload.deposit?.action === "open") {
            const record = await openWithAuthorization({ ...payload.deposit, channelId: payload.channelId }, voucher, amount, minRelayedDeposit);
            return { record, signer: record, voucher };
          }
          const signer = useStoredSigner && payload.deposit === undefined ? storedSigners.get(payload.channelId) : undefined;
          if (signer) return { signer, voucher };
          let record = await knownChannel(payload.channelId, amount);
          if (record.closeRequestedAt !== 0n) {
            throw new PaymentProblemError("channel-finalized", { detail: "A forced close is pending on this channel", extensions: { channelId: record.channelId } });
          }
          if (payload.deposit) record = await topUpWithAuthorization({ ...payload.deposit, channelId: payload.channelId }, record, minRelayedDeposit, voucher);
          return { record, signer: record, voucher };
        }
      }
    }

    async function handle(httpRequest: Request, handler: PaidHandler): Promise<Response> {
      const authorized = await authorize(httpRequest);
      if (authorized.response) return authorized.response;
      let response: Response;
      try {
        response = await handler(httpRequest, authorized.payment);
      } catch (error) {
        await authorized.release();
        return answer(authorized, error);
      }
      let receipt: Record<string, string>;
      try {
        receipt = await authorized.finish(response.status);
      } catch (error) {
        await response.body?.cancel().catch(() => undefined);
        return answer(authorized, error);
      }
      const headers = new Headers(response.headers);
      for (const [name, value] of Object.entries(receipt)) headers.set(name, value);
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    }

    /** The gate's problem response for `error`; anything it does not answer is thrown on. */
    function answer(authorized: PaidRequest, error: unknown): Response {
      const response = authorized.problem(error);
      if (response) return response;
      throw error;
    }

    async function authorize(httpRequest: Request): Promise<Authorization> {
      const claimant = methods.find((method) => method.claims(httpRequest));
      // The handler then gets a OneTimePayment (method "charge" or "x402"), not a session Payment: the
      // public types catch up when the core takes methods.
      if (claimant) return (await claimant.authorize(priced, httpRequest)) as Authorization;
      const authorization = httpRequest.headers.get("authorization");
      if (authorization === null || !/^payment\s/i.test(authorization.trimStart())) return { response: paymentRequired(httpRequest) };
      let channelId: Hex | undefined;
      const problem = (error: unknown) => problemResponse(error, () => formatChallenge(challenge(channelId)));
      try {
        const credential = parseCredential(authorization);
        const payload = parseSessionPayload(credential.payload);
        channelId = payload.channelId;
        verifyChallenge(credential.challenge);
        // Management credentials are answered here on whatever method the route has (a GET-only route
        // must be able to close): they carry no request for the handler to serve.
        if (payload.action === "close") return { response: await closeAction(payload, amount, credential.challenge) };
        const management = httpRequest.method === "HEAD" || payload.action === "topUp";
        const requested = management ? 0n : units(httpRequest);
        let admitted: Admitted;
        try {
          admitted = await admitRequest(httpRequest, payload, credential.source, requested, true);
        } catch (error) {
          if (error !== RETRY_FROM_STORE) throw error;
          admitted = await admitRequest(httpRequest, payload, credential.source, requested, false);
        }
        publish(admitted.channel);
        // HEAD carries credentials only (the draft's voucher updates), a top-up only funding: answered
        // here, never by the handler, whose content would be produced (a metered stream charged) and dropped.
        if (management) {
          return { response: new Response(null, { status: 204, headers: receiptHeaders(receiptFor(admitted.channel, credential.challenge)) }) };
        }
        // A request that costs nothing (a metered stream charges as it goes) starts only on a channel that can
        // pay for one unit: an empty channel would otherwise hold a connection and a handler for free.
        if (requested === 0n && available(admitted.channel) < amount) throw insufficientBalance(admitted.channel, amount);
        return { ...held(admitted, requested, credential.challenge), problem };
      } catch (error) {
        const response = problem(error);
        if (response) return { response };
        throw error;
      }
    }

    type Admitted = { channel: ChannelRecord; fresh: boolean; key: string };

    /**
     * Verifies the credential's funding and voucher, then in one transaction accepts the voucher and
     * holds (or, in charge mode, charges) the request's cost. With `useStoredSigner`, a plain voucher on a
     * channel this gate stored before is checked against the channel as the transaction reads it; what
     * needs more (a deposit that may have grown on-chain, a channel the store lost) starts over without.
     */
    async function admitRequest(
      httpRequest: Request,
      payload: Exclude<SessionPayload, ClosePayload>,
      source: string | undefined,
      requested: bigint,
      useStoredSigner: boolean,
    ): Promise<Admitted> {
      const { voucher, signer, record: known } = await admit(payload, source, useStoredSigner);
      let record = known;
      let contractSigned = false;
      if (voucher) {
        contractSigned = await verifySignature(signer, voucher);
        if (record) record = await refreshDeposit(record, voucher.cumulativeAmount);
      }
      const cost = amount * requested;
      // Only now, with the credential verified, is a keyed request's body read (from a clone) and hashed.
      const charge = await requestChargeKey({ request: httpRequest, channelId: signer.channelId, route: canonicalRequest, units: requested, cost, ttl: idempotencyKeyTtl * 1000 });
      const { key } = charge;
      const admitted = await store.withChannel(signer.channelId, async (tx) => {
        let current = tx.channel ?? record;
        if (current === undefined) throw RETRY_FROM_STORE;
        // Every action (open, topUp, voucher, voucher with a deposit), on the channel as locked here.
        assertAdmissible(current);
        if (record === undefined) {
          // A voucher beyond the stored deposit needs the slow path's fresh read of the chain.
          if (voucher && voucher.cumulativeAmount > current.deposit) throw RETRY_FROM_STORE;
        } else if (record.deposit > current.deposit) {
          // A deposit read from the chain for this voucher (deposits only grow).
          current = { ...current, deposit: record.deposit, updatedAt: now() };
        }
        if (contractSigned) assertContractSignerCredit({ channel: current, cost, credit: contractSignerCredit });
        if (voucher) current = acceptVoucher(current, voucher, minVoucherDelta);
        let fresh = false;
        if (cost > 0n) {
          ({ channel: current, fresh } = await reserve({ tx, channel: current, ...charge, cost, units: requested, now: now() }));
        }
        if (fresh && chargeMode === "charge") current = await finishCharge(tx, current, key, "committed", now());
        await tx.putChannel(current);
        return { channel: current, fresh, key };
      });
      rememberSigner(admitted.channel);
      return admitted;
    }

    /** The payment an admitted request is served under, and the two ways its held cost ends. */
    function held(admitted: Admitted, requested: bigint, echoed: PaymentChallenge): Omit<PaidRequest, "problem"> {
      const { channel, fresh, key } = admitted;
      const finish = async (outcome: "committed" | "released") => {
        if (!fresh || chargeMode === "charge") return channel;
        const finished = await store.withChannel(channel.channelId, async (tx) => {
          const updated = await finishCharge(tx, tx.channel ?? channel, key, outcome, now());
          await tx.putChannel(updated);
          return updated;
        });
        publish(finished);
        return finished;
      };
      return {
        payment: { channelId: channel.channelId, challengeId: echoed.id, payer: channel.payer, units: requested, channel },
        // The charge is durable before the response leaves: a crash after this point has billed a
        // delivered response; a crash before it leaves a reservation that is released on restart.
        finish: async (status) => receiptHeaders(receiptFor(await finish(routeBillable(status) ? "committed" : "released"), echoed, { units: requested })),
        release: async () => void (await finish("released")),
      };
    }

    return { handle, authorize, challenge, request };
  }

  async function recover({ olderThan = 0 }: { olderThan?: number } = {}): Promise<ChargeRecord[]> {
    const stale = await store.listCharges({ status: "reserved", updatedBefore: now() - olderThan + 1 });
    const released: ChargeRecord[] = [];
    for (const charge of stale) {
      const channel = await store.withChannel(charge.channelId, async (tx) => {
        if (!tx.channel) return undefined;
        // finishCharge re-reads the charge under the lock: one finished meanwhile is left alone.
        const updated = await finishCharge(tx, tx.channel, charge.key, "released", now());
        if (updated === tx.channel) return undefined;
        await tx.putChannel(updated);
        return updated;
      });
      if (channel) {
        released.push({ ...charge, status: "released" });
        publish(channel);
      }
    }
    return released;
  }

  return {
    session,
    ready,
    store,
    chain,
    recipient,
    currency,
    chainId: viemChain.id,
    onChannelUpdate(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    closeChannel: (channelId) => closeWithHighestVoucher(channelId),
    publish,
    now,
    recover,
  };
}

function receiptHeaders(receipt: Parameters<typeof formatReceipt>[0]) {
  return { "payment-receipt": formatReceipt(receipt), "cache-control": "private" };
}
