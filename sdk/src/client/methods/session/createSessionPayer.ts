import type { Hex } from "viem";
import { getChannel } from "../../../channel/getChannel.js";
import { requestChannelClose } from "../../../transactions/requestChannelClose.js";
import { withdrawChannel } from "../../../transactions/withdrawChannel.js";
import type { Demand } from "../../assertDemand.js";
import { checkRefusedChannel } from "../../checkRefusedChannel.js";
import type { ClientChannel } from "../../ClientChannel.js";
import { type CloseResult, closeCooperatively } from "../../closeCooperatively.js";
import type { PaymentCaps } from "../../createPaymentCaps.js";
import type { CloseTarget } from "../../PayingFetch.js";
import type { Offer } from "../../readOffer.js";
import { readProblem } from "../../readProblem.js";
import { readRetryAfter } from "../../readRetryAfter.js";
import { takeReceipt } from "../../takeReceipt.js";
import { createSessionCredentials, type CreateSessionCredentialsParameters } from "./createSessionCredentials.js";
import { createSessionOffers } from "./createSessionOffers.js";
import { followSessionStream } from "./followSessionStream.js";

const MAX_ATTEMPTS = 4;

export type CreateSessionPayerParameters = CreateSessionCredentialsParameters & {
  caps: PaymentCaps;
  /** The fetch that carries requests. */
  fetch: typeof fetch;
};

export type SessionPayer = ReturnType<typeof createSessionPayer>;

/**
 * The `evm` session method on the client: opens a channel for an offer (within the caps), pays each
 * request with one voucher, tops up, answers the seller's refusals (a stale challenge, a channel it
 * says is gone, a deposit behind the chain, an open it cannot see yet), follows streams, and closes.
 */
export function createSessionPayer({ context, caps, fetch: baseFetch, ...demandCaps }: CreateSessionPayerParameters) {
  const { account, publicClient, store, exclusive, save } = context;
  const offers = createSessionOffers({ caps, payer: account.address });
  const credentials = createSessionCredentials({ context, ...demandCaps });

  /**
   * Pays a request on a session offer (from a 402, or cached for its route) and retries as the seller's
   * refusals say; `response` is the 402 the offer came from, if any.
   */
  async function pay({ offer: first, url, send, response }: { offer: Offer; url: URL; send: (authorization: string) => Promise<Response>; response: Response | undefined }): Promise<Response> {
    let offer = first;
    offers.set(url, offer);
    let demand: Demand | undefined;
    // At most one open per request: a seller refusing the channel just opened does not get another.
    let opened = false;
    // What was delivered before this request: demands are bounded from it.
    let startSpent: bigint | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current: Offer = offer;
      const paid = await exclusive(current.key, async () => {
        startSpent ??= (await store.get(current.key))?.spent ?? 0n;
        const noOpen = opened ? "The seller refused the channel this request opened; no second one is opened for it" : undefined;
        const next = await credentials.next({ offer: current, url: url.href, demand, noOpen, retry: attempt > 0 });
        opened ||= next.opened;
        const answer = await send(next.authorization);
        // Anything but a 402 means the seller took the open (an open is idempotent, so a 402 may resend it);
        // so does a balance problem, which the seller can only compute on a channel it knows.
        if (answer.status !== 402 || (await readProblem(answer)).type === "session/insufficient-balance") await credentials.openTaken(current.key);
        await takeReceipt({ context, key: current.key, response: answer });
        return answer;
      });
      if (paid.status !== 402 && paid.status !== 410) {
        return followSessionStream({ context, credentials, offers, fetch: baseFetch, response: paid, offer: current, url: url.href, startSpent: startSpent! });
      }
      const problem = await readProblem(paid);
      const fresh = offers.read(paid, url);
      if (fresh) offers.set(url, (offer = fresh));
      demand = undefined;
      if (problem.type === "session/insufficient-balance" && problem.requiredCumulative !== undefined) {
        demand = { kind: "request", required: BigInt(problem.requiredCumulative), startSpent: startSpent! };
      } else if (problem.type === "session/channel-finalized" || problem.type === "session/channel-not-found") {
        // The seller will take no more vouchers on this channel: given up only if the chain agrees.
        await exclusive(current.key, async () => {
          const stale = await store.get(current.key);
          if (!stale || stale.status !== "open") return;
          const status = await checkRefusedChannel({ context, channel: stale, problem: problem.type! });
          credentials.forget(stale.channelId);
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
      } else if (problem.type === "verification-failed" && (await credentials.hasPendingOpen(current.key))) {
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

  async function channelById(channelId: Hex): Promise<ClientChannel> {
    const channel = (await store.list()).find((candidate) => candidate.channelId === channelId);
    if (!channel) throw new Error(`No channel ${channelId} of this payer in the store`);
    return channel;
  }

  async function close(target: CloseTarget): Promise<CloseResult> {
    const channel =
      "channelId" in target
        ? await channelById(target.channelId)
        : (await store.list()).find((candidate) => candidate.status === "open" && candidate.origin === new URL(target.url).origin);
    if (!channel) throw new Error("No open channel for that seller");
    // A close goes to the channel's own origin only: its vouchers were never meant for another site.
    const url = "url" in target && new URL(target.url).origin === channel.origin ? new URL(target.url).href : channel.url;
    let offer = offers.get(url);
    if (!offer) {
      offer = offers.read(await baseFetch(url), url);
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
          const fresh = offers.read(response, url);
          if (fresh) offers.set(url, fresh);
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
    cachedOffer: offers.get,
    close,
    requestClose,
    withdraw,
  };
}
