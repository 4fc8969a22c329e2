import type { Hex } from "viem";
import { getChannel } from "../../../channel/getChannel.js";
import { UntrustedServerError } from "../../../errors/UntrustedServerError.js";
import { formatCredential } from "../../../protocol/credential.js";
import { formatSessionPayload, type SessionPayload } from "../../../session/payload.js";
import { requestChannelClose } from "../../../transactions/requestChannelClose.js";
import { withdrawChannel } from "../../../transactions/withdrawChannel.js";
import { assertDemand, type Demand } from "../../assertDemand.js";
import { checkRefusedChannel } from "../../checkRefusedChannel.js";
import type { ClientChannel } from "../../ClientChannel.js";
import { type CloseResult, closeCooperatively } from "../../closeCooperatively.js";
import type { PaymentCaps } from "../../createPaymentCaps.js";
import { followPaymentEvents } from "../../followPaymentEvents.js";
import { openPaymentChannel } from "../../openPaymentChannel.js";
import { canDecline, prepayTarget } from "../../prepayTarget.js";
import type { PayingContext } from "../../PayingContext.js";
import { type Offer, readOffer } from "../../readOffer.js";
import { readProblem } from "../../readProblem.js";
import { readRetryAfter } from "../../readRetryAfter.js";
import { takeReceipt } from "../../takeReceipt.js";
import { topUpPaymentChannel } from "../../topUpPaymentChannel.js";
import { signChannelVoucher } from "../../signChannelVoucher.js";

const MAX_ATTEMPTS = 4;

export type CreateSessionPayerParameters = {
  context: PayingContext;
  caps: PaymentCaps;
  /** The fetch that carries requests. */
  fetch: typeof fetch;
  maxUnitsPerRequest: bigint;
  maxUnitsPerStream: bigint;
  /** Units a stream's vouchers may run ahead of what it delivered (see `prepayTarget`). */
  prepayUnits: bigint;
};

export type SessionPayer = ReturnType<typeof createSessionPayer>;

/** The seller's URL without query: offers and channels are per route. */
export const routeOf = (url: string | URL) => {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
};

/**
 * The `evm` session method on the client: opens a channel for an offer (within the caps), pays each
 * request with one voucher, tops up, answers the seller's refusals (a stale challenge, a channel it
 * says is gone, a deposit behind the chain, an open it cannot see yet), follows streams, and closes.
 */
export function createSessionPayer({ context, caps, fetch: baseFetch, maxUnitsPerRequest, maxUnitsPerStream, prepayUnits }: CreateSessionPayerParameters) {
  const { account, chain, publicClient, store, exclusive, save } = context;
  /** The latest usable offer per URL (origin and path), so later requests pay without a 402 first. */
  const offers = new Map<string, Offer>();
  const offerOf = (response: Response, url: string | URL) => readOffer({ response, caps, payer: account.address, origin: new URL(url).origin });
  /**
   * Open credentials the seller has not taken yet, by channel id: when the open is refused for a stale
   * challenge or never arrives, the retry sends the same open (a relayed open is not on-chain until the
   * seller submits it, so a voucher would find no channel, and a new open would sign a second voucher).
   */
  const pendingOpens = new Map<Hex, { payload: SessionPayload; source?: string }>();
  const credential = (offer: Offer, payload: SessionPayload, source?: string) =>
    formatCredential({ challenge: offer.challenge, payload: formatSessionPayload(payload), ...(source ? { source } : {}) });

  /**
   * The credential for the next request on an offer's channel: a voucher covering what the seller has
   * charged plus one unit (or what it demanded, within the caps; in a stream, up to the prepay window),
   * reusing the last voucher when that already covers it. Opens a channel when there is none, unless `noOpen` says why it must not.
   */
  async function credentialFor(offer: Offer, url: string, demand: Demand | undefined, noOpen?: string): Promise<{ authorization: string; opened: boolean }> {
    let channel = await store.get(offer.key);
    if (!channel || channel.status !== "open") {
      if (noOpen !== undefined) throw new UntrustedServerError(noOpen);
      const opened = await openPaymentChannel({ context, offer, url });
      pendingOpens.set(opened.channel.channelId, { payload: opened.payload, ...(opened.source ? { source: opened.source } : {}) });
      return { authorization: credential(offer, opened.payload, opened.source), opened: true };
    }
    const price = offer.request.amount;
    if (demand) assertDemand({ demand, channel, price, maxUnitsPerRequest, maxUnitsPerStream, prepayUnits });
    const pending = pendingOpens.get(channel.channelId);
    if (pending) return { authorization: credential(offer, pending.payload, pending.source), opened: false };
    let target = max(demand?.required ?? 0n, channel.spent + price);
    let deposit: SessionPayload | undefined;
    // Checked before a top-up too, so that a voucher the budget refuses costs no top-up transaction or authorization.
    if (target > channel.cumulativeAmount) await context.limits.assertBudget(channel.token, target - channel.cumulativeAmount);
    if (target > channel.deposit) ({ channel, deposit } = await topUpPaymentChannel({ context, channel, offer, needed: target }));
    if (demand?.kind === "stream") {
      target = max(target, prepayTarget({ demand, channel, price, prepayUnits, maxUnitsPerStream, budgetLeft: await context.limits.budgetLeft(channel.token) }));
    }
    if (target > channel.cumulativeAmount || channel.signature === null) {
      const current = channel;
      // Stored before it is sent: a restarted client never forgets what it authorized.
      channel = await context.limits.withinBudget(channel.token, target - current.cumulativeAmount, async () =>
        save({ ...current, cumulativeAmount: target, signature: await signChannelVoucher({ context, channel: current, cumulativeAmount: target }), url }),
      );
    } else if (channel.url !== url) {
      channel = await save({ ...channel, url });
    }
    const voucher = { action: "voucher", channelId: channel.channelId, cumulativeAmount: channel.cumulativeAmount, signature: channel.signature! } as const;
    const payload = deposit?.action === "topUp" && deposit.type === "authorization"
      ? { ...voucher, deposit: { action: "topUp" as const, type: "authorization" as const, authorization: deposit.authorization, signature: deposit.signature, salt: deposit.salt } }
      : voucher;
    return { authorization: credential(offer, payload), opened: false };
  }

  async function hasPendingOpen(key: string): Promise<boolean> {
    const channel = await store.get(key);
    return channel !== undefined && pendingOpens.has(channel.channelId);
  }

  /**
   * Pays a request on a session offer (from a 402, or cached for its route) and retries as the seller's
   * refusals say; `response` is the 402 the offer came from, if any.
   */
  async function pay({ offer: first, url, send, response }: { offer: Offer; url: URL; send: (authorization: string) => Promise<Response>; response: Response | undefined }): Promise<Response> {
    const route = routeOf(url);
    let offer = first;
    offers.set(route, offer);
    let demand: Demand | undefined;
    // At most one open per request: a seller refusing the channel just opened does not get another.
    let opened = false;
    // What was delivered before this request: demands are bounded from it.
    let startSpent: bigint | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current: Offer = offer;
      const paid = await exclusive(current.key, async () => {
        startSpent ??= (await store.get(current.key))?.spent ?? 0n;
        const next = await credentialFor(current, url.href, demand, opened ? "The seller refused the channel this request opened; no second one is opened for it" : undefined);
        opened ||= next.opened;
        const answer = await send(next.authorization);
        // Anything but a 402 means the seller took the open (an open is idempotent, so a 402 may resend it);
        // so does a balance problem, which the seller can only compute on a channel it knows.
        if ((answer.status !== 402 || (await readProblem(answer)).type === "session/insufficient-balance") && pendingOpens.size > 0) {
          const channel = await store.get(current.key);
          if (channel) pendingOpens.delete(channel.channelId);
        }
        await takeReceipt({ context, key: current.key, response: answer });
        return answer;
      });
      if (paid.status !== 402 && paid.status !== 410) {
        const acknowledged = { amount: 0n };
        return followPaymentEvents({
          response: paid,
          onNeedVoucher: (required, received) =>
            context.trackPayment(() => payMidStream(current, url.href, { kind: "stream", required, startSpent: startSpent!, received }, acknowledged)),
          // A voucher this client will not or cannot send: the reader learns why now, not when the seller gives up.
          stopOnError: true,
          // The stream's final receipt, checked like a header receipt, under the channel's lock.
          onReceipt: async (receipt) => void (await exclusive(current.key, () => takeReceipt({ context, key: current.key, receipt }))),
        });
      }
      const problem = await readProblem(paid);
      const fresh = offerOf(paid, url);
      if (fresh) offers.set(route, (offer = fresh));
      demand = undefined;
      if (problem.type === "session/insufficient-balance" && problem.requiredCumulative !== undefined) {
        demand = { kind: "request", required: BigInt(problem.requiredCumulative), startSpent: startSpent! };
      } else if (problem.type === "session/channel-finalized" || problem.type === "session/channel-not-found") {
        // The seller will take no more vouchers on this channel: given up only if the chain agrees.
        await exclusive(current.key, async () => {
          const stale = await store.get(current.key);
          if (!stale || stale.status !== "open") return;
          const status = await checkRefusedChannel({ context, channel: stale, problem: problem.type! });
          pendingOpens.delete(stale.channelId);
          await save({ ...stale, status });
        });
      } else if (problem.type === "session/amount-exceeds-deposit") {
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
      } else if (problem.type === "verification-failed" && (await hasPendingOpen(current.key))) {
        // The seller's node has not seen this client's open yet (a confirmation depth, a node behind the
        // client's): wait as told, within the client's own bound, and send the same open again.
        const seconds = readRetryAfter(paid);
        if (seconds === undefined) return paid;
        await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      } else if (problem.type !== "session/challenge-not-found" && problem.type !== "payment-required") {
        return paid;
      }
      if (!fresh && problem.type === "session/challenge-not-found") return paid;
      response = paid;
    }
    return response!;
  }

  /**
   * A voucher sent with HEAD to the stream's URL when the seller asks for more mid-stream. A HEAD answer
   * has no problem body: a 402 with a fresh challenge (the cached one expired while the stream ran) is
   * retried once with it, with the same voucher; any other refusal is thrown, which ends the stream
   * (a cap reached on an ask ahead only when the stream needs the voucher, see `canDecline`). An ask that a
   * voucher this stream already had accepted covers (a pause while that voucher was on its way) is not paid again.
   */
  async function payMidStream(offer: Offer, url: string, demand: Extract<Demand, { kind: "stream" }>, acknowledged: { amount: bigint }) {
    const route = routeOf(url);
    await exclusive(offer.key, async () => {
      if (demand.required <= acknowledged.amount) return;
      // The latest challenge for this route, if a retry replaced the one the stream started with.
      const latest = offers.get(route);
      let current = latest?.key === offer.key ? latest : offer;
      for (let attempt = 0; ; attempt++) {
        const next = await credentialFor(current, url, demand, "The seller asks for a voucher mid-stream on a channel that is no longer open").catch(async (error: unknown) => {
          if (canDecline({ error, demand, channel: await store.get(current.key), price: current.request.amount })) return undefined;
          throw error;
        });
        if (!next) return;
        const { authorization } = next;
        const answer = await baseFetch(url, { method: "HEAD", headers: { authorization } });
        if (answer.ok) {
          acknowledged.amount = (await store.get(current.key))?.cumulativeAmount ?? 0n;
          await takeReceipt({ context, key: current.key, response: answer });
          return;
        }
        const fresh = answer.status === 402 && attempt === 0 ? offerOf(answer, url) : undefined;
        if (!fresh || fresh.key !== current.key) throw new Error(`The seller refused the voucher for ${demand.required} mid-stream (${answer.status})`);
        offers.set(route, (current = fresh));
      }
    });
  }

  async function channelById(channelId: Hex): Promise<ClientChannel> {
    const channel = (await store.list()).find((candidate) => candidate.channelId === channelId);
    if (!channel) throw new Error(`No channel ${channelId} of this payer in the store`);
    return channel;
  }

  async function close(target: { url: string | URL } | { channelId: Hex }): Promise<CloseResult> {
    const channel =
      "channelId" in target
        ? await channelById(target.channelId)
        : (await store.list()).find((candidate) => candidate.status === "open" && candidate.origin === new URL(target.url).origin);
    if (!channel) throw new Error("No open channel for that seller");
    // A close goes to the channel's own origin only: its vouchers were never meant for another site.
    const url = "url" in target && new URL(target.url).origin === channel.origin ? new URL(target.url).href : channel.url;
    const route = routeOf(url);
    let offer = offers.get(route);
    if (!offer) {
      offer = offerOf(await baseFetch(url), url);
      if (!offer) throw new Error(`${url} did not answer with a payment challenge`);
    }
    const closeOffer = offer;
    return exclusive(channel.key, () =>
      closeCooperatively({
        context,
        channel,
        url,
        offer: closeOffer,
        fetch: baseFetch,
        refresh: (response) => {
          const fresh = offerOf(response, url);
          if (fresh) offers.set(route, fresh);
          return fresh;
        },
      }),
    );
  }

  async function requestClose(channelId: Hex): Promise<Hex> {
    const channel = await channelById(channelId);
    const { hash, receipt } = await context.transacting(() => requestChannelClose({ ...context.transactionOptions, escrow: channel.escrow, channelId }));
    const block = await publicClient.getBlock({ blockNumber: receipt.blockNumber });
    await save({ ...channel, closeRequestedAt: block.timestamp });
    return hash;
  }

  async function withdraw(channelId: Hex): Promise<Hex> {
    const channel = await channelById(channelId);
    const { hash } = await context.transacting(() => withdrawChannel({ ...context.transactionOptions, escrow: channel.escrow, channelId }));
    await save({ ...channel, status: "closed" });
    return hash;
  }

  return {
    pay,
    /** The session offer cached for a URL's route, if any. */
    cachedOffer: (url: string | URL) => offers.get(routeOf(url)),
    close,
    requestClose,
    withdraw,
  };
}

function max(a: bigint, b: bigint) {
  return a > b ? a : b;
}
