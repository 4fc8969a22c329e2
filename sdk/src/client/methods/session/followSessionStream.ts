import type { Demand } from "../../assertDemand.js";
import { followPaymentEvents } from "../../followPaymentEvents.js";
import type { PayingContext } from "../../PayingContext.js";
import { canDecline } from "../../prepayTarget.js";
import type { Offer } from "../../readOffer.js";
import { takeReceipt } from "../../takeReceipt.js";
import type { SessionCredentials } from "./createSessionCredentials.js";
import type { SessionOffers } from "./createSessionOffers.js";

export type FollowSessionStreamParameters = {
  context: PayingContext;
  credentials: SessionCredentials;
  offers: SessionOffers;
  /** The fetch that carries the vouchers a stream asks for. */
  fetch: typeof fetch;
  /** The paid response: an event stream is followed, anything else is returned as it is. */
  response: Response;
  /** The offer the request was paid on. */
  offer: Offer;
  url: string;
  /** What was delivered before the request began: the stream's demands are bounded from it. */
  startSpent: bigint;
};

/**
 * A paid response, its event stream (if it is one) followed: each `payment-need-voucher` is answered with
 * a voucher up to the prepay window (see `prepayTarget`), counted as a payment in flight; a voucher this
 * client will not or cannot send errors the stream, so that the reader learns why now, not when the
 * seller gives up; and the stream's final receipt is checked like a header receipt, under the channel's lock.
 */
export function followSessionStream({ context, credentials, offers, fetch, response, offer, url, startSpent }: FollowSessionStreamParameters): Response {
  const { exclusive, store } = context;
  // The highest voucher this stream had accepted: an ask it covers (a pause while that voucher was on its way) is not paid again.
  let acknowledged = 0n;

  /**
   * A voucher sent with HEAD to the stream's URL. A HEAD answer has no problem body: a 402 with a fresh
   * challenge (the cached one expired while the stream ran) is retried once with it, with the same
   * voucher; any other refusal is thrown, which ends the stream (a cap reached on an ask ahead only when
   * the stream needs the voucher, see `canDecline`).
   */
  async function payMidStream(demand: Extract<Demand, { kind: "stream" }>) {
    await exclusive(offer.key, async () => {
      if (demand.required <= acknowledged) return;
      // The latest challenge for this route, if a retry replaced the one the stream started with.
      const latest = offers.get(url);
      let current = latest?.key === offer.key ? latest : offer;
      for (let attempt = 0; ; attempt++) {
        const next = await credentials
          .next({ offer: current, url, demand, noOpen: "The seller asks for a voucher mid-stream on a channel that is no longer open" })
          .catch(async (error: unknown) => {
            if (canDecline({ error, demand, channel: await store.get(current.key), price: current.request.amount })) return undefined;
            throw error;
          });
        if (!next) return;
        const answer = await fetch(url, { method: "HEAD", headers: { authorization: next.authorization } });
        if (answer.ok) {
          acknowledged = (await store.get(current.key))?.cumulativeAmount ?? 0n;
          await takeReceipt({ context, key: current.key, response: answer });
          return;
        }
        const fresh = answer.status === 402 && attempt === 0 ? offers.read(answer, url) : undefined;
        if (!fresh || fresh.key !== current.key) throw new Error(`The seller refused the voucher for ${demand.required} mid-stream (${answer.status})`);
        offers.set(url, (current = fresh));
      }
    });
  }

  return followPaymentEvents({
    response,
    onNeedVoucher: (required, received) => context.trackPayment(() => payMidStream({ kind: "stream", required, startSpent, received })),
    stopOnError: true,
    onReceipt: async (receipt) => void (await exclusive(offer.key, () => takeReceipt({ context, key: offer.key, receipt }))),
  });
}
