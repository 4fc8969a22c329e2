import {
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  type Hex,
  http,
  isAddressEqual,
  type LocalAccount,
  type Transport,
  zeroAddress,
} from "viem";
import { signOpenAuthorization } from "../authorization/signOpenAuthorization.js";
import { signTopUpAuthorization } from "../authorization/signTopUpAuthorization.js";
import { getTokenDomain } from "../authorization/getTokenDomain.js";
import { computeChannelId } from "../channel/computeChannelId.js";
import { getChannel } from "../channel/getChannel.js";
import { getDeployment } from "../deployments/getDeployment.js";
import { PaymentCapError } from "../errors/PaymentCapError.js";
import { UntrustedServerError } from "../errors/UntrustedServerError.js";
import { decodeChallengeRequest, type PaymentChallenge, parseChallenges } from "../protocol/challenge.js";
import { formatCredential } from "../protocol/credential.js";
import { parseReceipt } from "../protocol/receipt.js";
import { formatSessionPayload, type SessionPayload } from "../session/payload.js";
import { parseSessionRequest, type SessionRequest } from "../session/request.js";
import { openChannel } from "../transactions/openChannel.js";
import { requestChannelClose } from "../transactions/requestChannelClose.js";
import { topUpChannel } from "../transactions/topUpChannel.js";
import { withdrawChannel } from "../transactions/withdrawChannel.js";
import { signVoucher } from "../voucher/signVoucher.js";
import { type ClientChannel, type ClientChannelStore, channelKey, createMemoryChannelStore } from "./ClientChannel.js";
import { followPaymentEvents } from "./followPaymentEvents.js";

export type PayingFetchParameters = {
  /** The payer: signs vouchers and authorizations, and sends its own opens and top-ups. */
  account: LocalAccount;
  /** The chain this client pays on; challenges for other chains are not answered. */
  chain: Chain;
  /** RPC transport; defaults to the chain's first RPC URL. */
  transport?: Transport;
  /** Most that one deposit (an open or a top-up) may escrow, in base units. */
  maxDeposit: bigint;
  /** Most a server may ask per unit; unlimited when omitted, though a unit above `maxDeposit` is always refused (as `maxDeposit`). */
  maxPricePerUnit?: bigint;
  /** Most this client may authorize in vouchers across all channels; unlimited when omitted. */
  totalBudget?: bigint;
  /** Added when a channel runs low; defaults to the deposit a new channel gets (the server's suggestedDeposit, capped at maxDeposit). */
  topUpAmount?: bigint;
  /** Escrows this client pays into; defaults to the known deployment on `chain`. */
  escrows?: readonly Address[];
  store?: ClientChannelStore;
  /** The fetch that carries requests; defaults to the global one. */
  fetch?: typeof fetch;
  /** Called whenever a channel's state changes (opened, voucher signed, receipt, top-up, close). */
  onChannelUpdate?: (channel: ClientChannel) => void;
  /** Seconds an EIP-3009 authorization stays valid; defaults to 3 600. */
  authorizationTtl?: number;
};

export type CloseResult = { channelId: Hex; txHash: Hex | null; settled: bigint; refund: bigint };

export type PayingFetch = ((input: string | URL | Request, init?: RequestInit) => Promise<Response>) & {
  channels(): Promise<ClientChannel[]>;
  /** What sellers report as charged, summed over channels (from their receipts). */
  totalSpent(): Promise<bigint>;
  /** What this client signed away in vouchers, summed over channels: the most it can be charged. */
  totalAuthorized(): Promise<bigint>;
  /** Asks the seller behind `url` (or the channel's last URL) to close the channel cooperatively. */
  close(target: { url: string | URL } | { channelId: Hex }): Promise<CloseResult>;
  /** Starts a forced close on-chain, for a seller that stopped answering. */
  requestClose(channelId: Hex): Promise<Hex>;
  /** Refunds what was never settled, once the grace period after `requestClose` has passed. */
  withdraw(channelId: Hex): Promise<Hex>;
};

type Offer = { challenge: PaymentChallenge; request: SessionRequest; key: string };
type Problem = { type?: string; requiredCumulative?: string; channelId?: string };

const MAX_ATTEMPTS = 4;
/** Lock key of the payer's transactions (channel keys all contain ':', this one cannot clash). */
const TRANSACTIONS = "transactions";
/** Lock key of budget checks with the signatures they allow. */
const BUDGET = "budget";
const PROBLEMS = "https://paymentauth.org/problems/";

/**
 * A drop-in `fetch` that pays. On a 402 with an `evm` session challenge it opens a channel (within the
 * caps), pays the request with a voucher and retries; afterwards each request carries one new voucher and
 * costs no transaction. It tops up when the deposit runs low, follows `payment-need-voucher` events in
 * streams, and closes on request.
 */
export function createPayingFetch(parameters: PayingFetchParameters): PayingFetch {
  const {
    account,
    chain,
    maxDeposit,
    maxPricePerUnit,
    totalBudget,
    store = createMemoryChannelStore(),
    onChannelUpdate = () => {},
    authorizationTtl = 3_600,
  } = parameters;
  const baseFetch = parameters.fetch ?? globalThis.fetch.bind(globalThis);
  const transport = parameters.transport ?? http();
  const publicClient = createPublicClient({ chain, transport });
  const walletClient = createWalletClient({ chain, transport, account });
  const transactionOptions = { client: walletClient, publicClient };
  const escrows = parameters.escrows ?? [getDeployment({ chainId: chain.id }).contracts.TollgateEscrow.address];
  /** The latest usable offer per URL (origin and path), so later requests pay without a 402 first. */
  const offers = new Map<string, Offer>();
  const locks = new Map<string, Promise<unknown>>();
  /**
   * Open credentials the seller has not taken yet, by channel id: when the open is refused for a stale
   * challenge or never arrives, the retry sends the same open (a relayed open is not on-chain until the
   * seller submits it, so a voucher would find no channel, and a new open would sign a second voucher).
   */
  const pendingOpens = new Map<Hex, { payload: SessionPayload; source?: string }>();

  /** Runs `task` alone for one channel: one voucher in flight per channel. */
  function exclusive<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = locks.get(key) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.catch(() => {});
    locks.set(key, tail);
    void tail.then(() => {
      if (locks.get(key) === tail) locks.delete(key);
    });
    return run;
  }

  /**
   * Runs the payer's own transactions one at a time: channels are locked separately, but they share the
   * account's nonce and its token allowance (an approve sets it, so two interleaved approve + open pairs
   * would spend each other's allowance).
   */
  const transacting = <T>(task: () => Promise<T>) => exclusive(TRANSACTIONS, task);

  async function save(channel: ClientChannel) {
    const updated = { ...channel, updatedAt: Date.now() };
    await store.put(updated);
    onChannelUpdate(updated);
    return updated;
  }

  /**
   * Picks the first `evm` session challenge of a 402 that fits the caps; undefined if there is none.
   * When there are some but none fits, the first one's refusal is thrown as a PaymentCapError.
   */
  function readOffer(response: Response): Offer | undefined {
    const header = response.headers.get("www-authenticate");
    if (header === null) return undefined;
    let challenges: PaymentChallenge[];
    try {
      challenges = parseChallenges(header);
    } catch {
      return undefined;
    }
    let refusal: PaymentCapError | undefined;
    for (const challenge of challenges) {
      if (challenge.method !== "evm" || challenge.intent !== "session") continue;
      let request: SessionRequest;
      try {
        request = parseSessionRequest(decodeChallengeRequest(challenge.request));
      } catch {
        continue;
      }
      const refused = refuse(request);
      if (refused) {
        refusal ??= refused;
        continue;
      }
      const key = channelKey({ chainId: chain.id, escrow: request.methodDetails.escrowContract, payee: request.recipient, token: request.currency });
      return { challenge, request, key };
    }
    if (refusal) throw refusal;
    return undefined;
  }

  /** Why this client will not pay a challenge's request, or undefined when it fits the caps. */
  function refuse(request: SessionRequest): PaymentCapError | undefined {
    if (request.methodDetails.chainId !== chain.id) {
      return new PaymentCapError("chain", `The server wants payment on chain ${request.methodDetails.chainId}; this client pays on ${chain.id}`);
    }
    if (!escrows.some((escrow) => isAddressEqual(escrow, request.methodDetails.escrowContract))) {
      return new PaymentCapError("escrow", `Escrow ${request.methodDetails.escrowContract} is not one this client trusts`);
    }
    if (maxPricePerUnit !== undefined && request.amount > maxPricePerUnit) {
      return new PaymentCapError("maxPricePerUnit", `The price ${request.amount} per unit exceeds the cap ${maxPricePerUnit}`);
    }
    // A unit the deposit cap cannot escrow can never be paid; named after the cap the buyer set.
    if (request.amount > maxDeposit) {
      return new PaymentCapError("maxDeposit", `One unit costs ${request.amount}, more than the deposit cap ${maxDeposit}`);
    }
    return undefined;
  }

  async function assertBudget(extra: bigint) {
    if (totalBudget === undefined || extra <= 0n) return;
    const authorized = await totalAuthorized();
    if (authorized + extra > totalBudget) {
      throw new PaymentCapError("totalBudget", `Authorizing ${extra} more would pass the total budget ${totalBudget} (${authorized} authorized)`);
    }
  }

  /**
   * Checks the budget for `extra` more and then signs and stores the voucher (`signAndSave`), one channel
   * at a time when a budget is set: two channels could otherwise both pass the check before either
   * stored its voucher, and together authorize more than the budget.
   */
  function withinBudget<T>(extra: bigint, signAndSave: () => Promise<T>): Promise<T> {
    if (totalBudget === undefined) return signAndSave();
    return exclusive(BUDGET, async () => {
      await assertBudget(extra);
      return signAndSave();
    });
  }

  /** Every channel once (a finished channel is briefly stored twice while it moves aside for a new one). */
  async function listChannels(): Promise<ClientChannel[]> {
    return [...new Map((await store.list()).map((channel) => [channel.channelId, channel])).values()];
  }

  async function totalAuthorized() {
    return (await listChannels()).reduce((sum, channel) => sum + channel.cumulativeAmount, 0n);
  }

  /** The deposit a new channel gets: the server's suggestion (one unit without one), capped at maxDeposit. */
  function openingDeposit(request: SessionRequest): bigint {
    const wanted = request.suggestedDeposit ?? request.amount;
    return wanted < maxDeposit ? wanted : maxDeposit;
  }

  /** Opens a channel for an offer: the server's suggested deposit, capped, paying the first unit at once. */
  async function open(offer: Offer, url: string): Promise<{ channel: ClientChannel; payload: SessionPayload; source?: string }> {
    const { request } = offer;
    const escrow = request.methodDetails.escrowContract;
    const price = request.amount;
    const deposit = openingDeposit(request);
    if (deposit < price) throw new PaymentCapError("maxDeposit", `One unit costs ${price}, more than the deposit cap ${maxDeposit}`);
    await assertBudget(price);
    const salt = randomBytes32();
    const channelId = computeChannelId({ chainId: chain.id, escrow, payer: account.address, payee: request.recipient, token: request.currency, salt, authorizedSigner: zeroAddress });
    const relayed = request.methodDetails.feePayer === true && (request.methodDetails.credentialTypes ?? ["hash"]).includes("authorization");
    let channel: ClientChannel = {
      key: offer.key,
      channelId,
      chainId: chain.id,
      escrow,
      payee: request.recipient,
      token: request.currency,
      salt,
      deposit,
      cumulativeAmount: price,
      signature: null,
      spent: 0n,
      url,
      status: "open",
      closeRequestedAt: 0n,
      createdAt: Date.now(),
      updatedAt: Date.now(),
    };
    // The store keeps one channel per key: a finished one moves aside, so what it authorized still counts.
    const previous = await store.get(offer.key);
    if (previous) await store.put({ ...previous, key: `${previous.key}:${previous.channelId}` });
    const unsigned = channel;
    const signature = await withinBudget(price, async () => {
      const signed = await signVoucher({ account, chainId: chain.id, escrow, channelId, cumulativeAmount: price });
      channel = await save({ ...unsigned, signature: signed });
      return signed;
    });
    if (relayed) {
      const authorization = await signOpenAuthorization({
        account,
        tokenDomain: await getTokenDomain({ client: publicClient, token: request.currency }),
        escrow,
        payee: request.recipient,
        deposit,
        salt,
        validBefore: BigInt(Math.floor(Date.now() / 1000) + authorizationTtl),
      });
      const { signature: authorizationSignature, ...fields } = authorization;
      return {
        channel,
        payload: { action: "open", type: "authorization", channelId, authorization: fields, signature: authorizationSignature, cumulativeAmount: price, voucherSignature: signature, salt },
      };
    }
    const { hash } = await transacting(() => openChannel({ ...transactionOptions, escrow, payee: request.recipient, token: request.currency, deposit, salt }));
    return {
      channel,
      payload: { action: "open", type: "hash", channelId, hash, cumulativeAmount: price, signature, salt },
      source: `did:pkh:eip155:${chain.id}:${account.address}`,
    };
  }

  /** Adds funds so that the deposit covers `needed`, by the configured top-up or more, within the cap. */
  async function topUp(channel: ClientChannel, needed: bigint, offer: Offer): Promise<{ channel: ClientChannel; deposit?: SessionPayload }> {
    // Not `channel.deposit`: that is the total so far, and top-ups of it would double until they passed maxDeposit.
    const configured = parameters.topUpAmount ?? openingDeposit(offer.request);
    const shortfall = needed - channel.deposit;
    const amount = configured > shortfall ? configured : shortfall;
    if (amount > maxDeposit) throw new PaymentCapError("maxDeposit", `A top-up of ${amount} would pass the deposit cap ${maxDeposit}`);
    const relayed = offer.request.methodDetails.feePayer === true && (offer.request.methodDetails.credentialTypes ?? ["hash"]).includes("authorization");
    if (relayed) {
      const topUpSalt = randomBytes32();
      const { signature, ...authorization } = await signTopUpAuthorization({
        account,
        tokenDomain: await getTokenDomain({ client: publicClient, token: channel.token }),
        escrow: channel.escrow,
        channelId: channel.channelId,
        additionalDeposit: amount,
        topUpSalt,
        validBefore: BigInt(Math.floor(Date.now() / 1000) + authorizationTtl),
      });
      // The server submits it together with the next voucher (the draft's deposit extension).
      return {
        channel: { ...channel, deposit: channel.deposit + amount },
        deposit: { action: "topUp", type: "authorization", channelId: channel.channelId, salt: topUpSalt, authorization, signature, additionalDeposit: amount },
      };
    }
    await transacting(() => topUpChannel({ ...transactionOptions, escrow: channel.escrow, channelId: channel.channelId, additionalDeposit: amount }));
    return { channel: await save({ ...channel, deposit: channel.deposit + amount, closeRequestedAt: 0n }) };
  }

  /**
   * The credential for the next request on an offer's channel: a voucher covering what the seller has
   * charged plus `cost` (or what it asked for), reusing the last voucher when that already covers it.
   */
  async function credentialFor(offer: Offer, url: string, required: bigint | undefined): Promise<string> {
    let channel = await store.get(offer.key);
    if (!channel || channel.status !== "open") {
      const opened = await open(offer, url);
      pendingOpens.set(opened.channel.channelId, { payload: opened.payload, ...(opened.source ? { source: opened.source } : {}) });
      return formatCredential({ challenge: offer.challenge, payload: formatSessionPayload(opened.payload), ...(opened.source ? { source: opened.source } : {}) });
    }
    const pending = pendingOpens.get(channel.channelId);
    if (pending) {
      return formatCredential({ challenge: offer.challenge, payload: formatSessionPayload(pending.payload), ...(pending.source ? { source: pending.source } : {}) });
    }
    const target = max(required ?? 0n, channel.spent + offer.request.amount);
    let deposit: SessionPayload | undefined;
    // Checked before a top-up too, so that a voucher the budget refuses costs no top-up transaction or authorization.
    if (target > channel.cumulativeAmount) await assertBudget(target - channel.cumulativeAmount);
    if (target > channel.deposit) ({ channel, deposit } = await topUp(channel, target, offer));
    if (target > channel.cumulativeAmount || channel.signature === null) {
      const current = channel;
      // Stored before it is sent: a restarted client never forgets what it authorized.
      channel = await withinBudget(target - current.cumulativeAmount, async () =>
        save({ ...current, cumulativeAmount: target, signature: await signVoucher({ account, chainId: chain.id, escrow: current.escrow, channelId: current.channelId, cumulativeAmount: target }), url }),
      );
    } else if (channel.url !== url) {
      channel = await save({ ...channel, url });
    }
    const voucher = { action: "voucher", channelId: channel.channelId, cumulativeAmount: channel.cumulativeAmount, signature: channel.signature! } as const;
    const payload = deposit?.action === "topUp" && deposit.type === "authorization"
      ? { ...voucher, deposit: { action: "topUp" as const, type: "authorization" as const, authorization: deposit.authorization, signature: deposit.signature, salt: deposit.salt } }
      : voucher;
    if (deposit) await save(channel);
    return formatCredential({ challenge: offer.challenge, payload: formatSessionPayload(payload) });
  }

  /** Takes the seller's receipt into the channel, refusing one that claims more than was signed. */
  async function acceptReceipt(offer: Offer, response: Response): Promise<ClientChannel | undefined> {
    const header = response.headers.get("payment-receipt");
    if (header === null) return store.get(offer.key);
    return takeReceipt(offer, parseReceipt(header));
  }

  async function takeReceipt(offer: Offer, receipt: Record<string, unknown>): Promise<ClientChannel | undefined> {
    const channel = await store.get(offer.key);
    if (!channel || receipt.channelId !== channel.channelId) return channel;
    const accepted = BigInt(String(receipt.acceptedCumulative));
    const spent = BigInt(String(receipt.spent));
    if (accepted > channel.cumulativeAmount || spent > accepted) {
      throw new UntrustedServerError(`The receipt claims ${accepted} accepted and ${spent} spent; this client signed at most ${channel.cumulativeAmount}`);
    }
    // A seller's spent only grows: an older receipt arriving late (a stream's final event) does not lower it.
    return spent <= channel.spent ? channel : save({ ...channel, spent });
  }

  async function payingFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const original = new Request(input, init);
    // Read once, so that every retry sends the same body.
    const body = original.body === null ? undefined : await original.arrayBuffer();
    const url = new URL(original.url);
    const route = `${url.origin}${url.pathname}`;
    const send = (authorization?: string) => {
      const headers = new Headers(original.headers);
      if (authorization) headers.set("authorization", authorization);
      return baseFetch(new Request(original.url, { method: original.method, headers, body: body ?? null, signal: original.signal, redirect: original.redirect }));
    };

    let offer = offers.get(route);
    let response: Response | undefined;
    if (!offer) {
      response = await send();
      if (response.status !== 402) return response;
      offer = readOffer(response);
      if (!offer) return response;
      offers.set(route, offer);
    }
    let required: bigint | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current: Offer = offer;
      const paid = await exclusive(current.key, async () => {
        const authorization = await credentialFor(current, url.href, required);
        const answer = await send(authorization);
        // Anything but a 402 means the seller took the open (an open is idempotent, so a 402 may resend it).
        if (answer.status !== 402 && pendingOpens.size > 0) {
          const channel = await store.get(current.key);
          if (channel) pendingOpens.delete(channel.channelId);
        }
        await acceptReceipt(current, answer);
        return answer;
      });
      if (paid.status !== 402 && paid.status !== 410) {
        return followPaymentEvents({
          response: paid,
          onNeedVoucher: (needed) => payMidStream(current, url.href, needed),
          // A voucher this client will not or cannot send: the reader learns why now, not when the seller gives up.
          stopOnError: true,
          // The stream's final receipt, checked like a header receipt, under the channel's lock.
          onReceipt: async (receipt) => void (await exclusive(current.key, () => takeReceipt(current, receipt))),
        });
      }
      const problem = (await paid.clone().json().catch(() => ({}))) as Problem;
      const fresh = readOffer(paid);
      if (fresh) offers.set(route, (offer = fresh));
      if (problem.type === `${PROBLEMS}session/insufficient-balance` && problem.requiredCumulative !== undefined) {
        required = BigInt(problem.requiredCumulative);
      } else if (problem.type === `${PROBLEMS}session/channel-finalized` || problem.type === `${PROBLEMS}session/channel-not-found`) {
        // The seller will not take vouchers on this channel any more: the next attempt opens a new one.
        const stale = await store.get(current.key);
        if (stale) {
          pendingOpens.delete(stale.channelId);
          await save({ ...stale, status: "closed" });
        }
        required = undefined;
      } else if (problem.type === `${PROBLEMS}session/amount-exceeds-deposit`) {
        // The stored deposit is ahead of the chain (a relayed top-up the seller could not submit): take the
        // chain's, so that the next attempt tops up again.
        const corrected = await exclusive(current.key, async () => {
          const stale = await store.get(current.key);
          const live = stale && (await getChannel({ client: publicClient, escrow: stale.escrow, channelId: stale.channelId }));
          if (!stale || !live || live.deposit >= stale.deposit) return false;
          await save({ ...stale, deposit: live.deposit });
          return true;
        });
        if (!corrected) return paid;
        required = undefined;
      } else if (problem.type !== `${PROBLEMS}session/challenge-not-found` && problem.type !== `${PROBLEMS}payment-required`) {
        return paid;
      }
      if (!fresh && problem.type === `${PROBLEMS}session/challenge-not-found`) return paid;
      response = paid;
    }
    return response!;
  }

  /**
   * A voucher sent with HEAD to the stream's URL when the seller asks for more mid-stream. A HEAD answer
   * has no problem body: a 402 with a fresh challenge (the cached one expired while the stream ran) is
   * retried once with it, with the same voucher; any other refusal is thrown, which ends the stream.
   */
  async function payMidStream(offer: Offer, url: string, required: bigint) {
    const route = new URL(url);
    const routeKey = `${route.origin}${route.pathname}`;
    await exclusive(offer.key, async () => {
      // The latest challenge for this route, if a retry replaced the one the stream started with.
      const latest = offers.get(routeKey);
      let current = latest?.key === offer.key ? latest : offer;
      for (let attempt = 0; ; attempt++) {
        const authorization = await credentialFor(current, url, required);
        const answer = await baseFetch(url, { method: "HEAD", headers: { authorization } });
        if (answer.ok) {
          await acceptReceipt(current, answer);
          return;
        }
        const fresh = answer.status === 402 && attempt === 0 ? readOffer(answer) : undefined;
        if (!fresh || fresh.key !== current.key) throw new Error(`The seller refused the voucher for ${required} mid-stream (${answer.status})`);
        offers.set(routeKey, (current = fresh));
      }
    });
  }

  async function channelById(channelId: Hex): Promise<ClientChannel> {
    const channel = (await store.list()).find((candidate) => candidate.channelId === channelId);
    if (!channel) throw new Error(`No channel ${channelId} in this client's store`);
    return channel;
  }

  async function close(target: { url: string | URL } | { channelId: Hex }): Promise<CloseResult> {
    const channel =
      "channelId" in target
        ? await channelById(target.channelId)
        : (await store.list()).find((candidate) => candidate.status === "open" && new URL(candidate.url).origin === new URL(target.url).origin);
    if (!channel) throw new Error("No open channel for that seller");
    const url = "url" in target ? new URL(target.url).href : channel.url;
    const routeUrl = new URL(url);
    let offer = offers.get(`${routeUrl.origin}${routeUrl.pathname}`);
    if (!offer) {
      const unpaid = await baseFetch(url);
      offer = readOffer(unpaid);
      if (!offer) throw new Error(`${url} did not answer with a payment challenge`);
    }
    let closeOffer = offer;
    return exclusive(channel.key, async () => {
      const current = (await store.get(channel.key)) ?? channel;
      const payload = formatSessionPayload({ action: "close", channelId: current.channelId, cumulativeAmount: current.cumulativeAmount, signature: current.signature! });
      const post = () => baseFetch(url, { method: "POST", headers: { authorization: formatCredential({ challenge: closeOffer.challenge, payload }) } });
      let response = await post();
      // The cached challenge may have expired since it was issued: the 402 carries a fresh one to try once.
      const problem = response.status === 402 ? ((await response.clone().json().catch(() => ({}))) as Problem) : {};
      const fresh = problem.type === `${PROBLEMS}session/challenge-not-found` ? readOffer(response) : undefined;
      if (fresh) {
        offers.set(`${routeUrl.origin}${routeUrl.pathname}`, (closeOffer = fresh));
        response = await post();
      }
      if (!response.ok) throw new Error(`The seller refused to close: ${response.status} ${await response.text()}`);
      const result = (await response.json()) as { txHash: Hex | null; settled: string; refund: string };
      await acceptReceipt(closeOffer, response);
      const settled = BigInt(result.settled);
      await save({ ...((await store.get(channel.key)) ?? current), status: "closed", spent: settled });
      return { channelId: current.channelId, txHash: result.txHash, settled, refund: BigInt(result.refund) };
    });
  }

  async function requestClose(channelId: Hex): Promise<Hex> {
    const channel = await channelById(channelId);
    const { hash, receipt } = await transacting(() => requestChannelClose({ ...transactionOptions, escrow: channel.escrow, channelId }));
    const block = await publicClient.getBlock({ blockNumber: receipt.blockNumber });
    await save({ ...channel, closeRequestedAt: block.timestamp });
    return hash;
  }

  async function withdraw(channelId: Hex): Promise<Hex> {
    const channel = await channelById(channelId);
    const { hash } = await transacting(() => withdrawChannel({ ...transactionOptions, escrow: channel.escrow, channelId }));
    await save({ ...channel, status: "closed" });
    return hash;
  }

  return Object.assign(payingFetch, {
    channels: listChannels,
    totalSpent: async () => (await listChannels()).reduce((sum, channel) => sum + channel.spent, 0n),
    totalAuthorized,
    close,
    requestClose,
    withdraw,
  });
}

function max(a: bigint, b: bigint) {
  return a > b ? a : b;
}

function randomBytes32(): Hex {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `0x${Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}
