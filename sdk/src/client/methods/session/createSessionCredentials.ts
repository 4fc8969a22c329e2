import type { Hex } from "viem";
import { UntrustedServerError } from "../../../errors/UntrustedServerError.js";
import { formatCredential } from "../../../protocol/credential.js";
import { formatSessionPayload, type SessionPayload } from "../../../session/payload.js";
import { assertDemand, type AssertDemandParameters, type Demand } from "../../assertDemand.js";
import { openPaymentChannel } from "../../openPaymentChannel.js";
import type { PayingContext } from "../../PayingContext.js";
import { prepayTarget, type RequestCount, requestPrepayTarget } from "../../prepayTarget.js";
import type { Offer } from "../../readOffer.js";
import { signChannelVoucher } from "../../signChannelVoucher.js";
import { topUpPaymentChannel } from "../../topUpPaymentChannel.js";

/** The client's context, and the per-request and per-stream caps a seller's demands are held to. */
export type CreateSessionCredentialsParameters = { context: PayingContext } & Pick<AssertDemandParameters, "maxUnitsPerRequest" | "maxUnitsPerStream" | "prepayUnits"> & {
  /** Requests a plain request's voucher may prepay (see `requestPrepayTarget`); 1 signs for one request. */
  prepayRequests: bigint;
};

export type NextCredentialParameters = {
  offer: Offer;
  url: string;
  /** What the seller asked for (a refusal's or a stream's `requiredCumulative`); undefined for a plain request. */
  demand?: Demand | undefined;
  /** Why no channel may be opened for this credential; undefined when one may. */
  noOpen?: string | undefined;
  /** Whether this request already sent a credential: a retry is not counted again as a request sent. */
  retry?: boolean;
};

export type SessionCredentials = ReturnType<typeof createSessionCredentials>;

/**
 * The `Authorization` credentials a session sends: an open for a new channel, then vouchers, each within
 * the caps and the budget, topping up first when the deposit is short, and stored before it is sent.
 */
export function createSessionCredentials({ context, maxUnitsPerRequest, maxUnitsPerStream, prepayUnits, prepayRequests }: CreateSessionCredentialsParameters) {
  const { store, save } = context;
  /**
   * Open credentials the seller has not taken yet, by channel id: when the open is refused for a stale
   * challenge or never arrives, the retry sends the same open (a relayed open is not on-chain until the
   * seller submits it, so a voucher would find no channel, and a new open would sign a second voucher).
   */
  const pendingOpens = new Map<Hex, { payload: SessionPayload; source?: string }>();
  /** Requests sent on each channel since this client began counting (see requestPrepayTarget). */
  const requests = new Map<Hex, RequestCount>();
  const credential = (offer: Offer, payload: SessionPayload, source?: string) =>
    formatCredential({ challenge: offer.challenge, payload: formatSessionPayload(payload), ...(source ? { source } : {}) });

  /**
   * The credential for the next request on an offer's channel: a voucher covering what the seller has
   * charged plus one unit (or what it demanded, within the caps; in a stream, up to the prepay window),
   * reusing the last voucher when that already covers it. Opens a channel when there is none, unless `noOpen` says why it must not.
   */
  async function next({ offer, url, demand, noOpen, retry = false }: NextCredentialParameters): Promise<{ authorization: string; opened: boolean }> {
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
    const before = requests.get(channel.channelId) ?? { from: channel.cumulativeAmount, sent: 0n };
    const counted = { ...before, sent: retry && before.sent > 0n ? before.sent : before.sent + 1n };
    requests.set(channel.channelId, counted);
    let target = max(demand?.required ?? 0n, channel.spent + price);
    let deposit: SessionPayload | undefined;
    // Checked before a top-up too, so that a voucher the budget refuses costs no top-up transaction or authorization.
    if (target > channel.cumulativeAmount) await context.limits.assertBudget(channel.token, target - channel.cumulativeAmount);
    if (target > channel.deposit) ({ channel, deposit } = await topUpPaymentChannel({ context, channel, offer, needed: target }));
    if (demand?.kind === "stream") {
      target = max(target, prepayTarget({ demand, channel, price, prepayUnits, maxUnitsPerStream, budgetLeft: await context.limits.budgetLeft(channel.token) }));
    } else if (prepayRequests > 1n && target > channel.cumulativeAmount) {
      target = max(target, requestPrepayTarget({ channel, price, prepayRequests, maxUnitsPerRequest, counted, budgetLeft: await context.limits.budgetLeft(channel.token) }));
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

  return {
    next,
    /** Whether the channel under `key` has an open the seller has not taken yet. */
    async hasPendingOpen(key: string): Promise<boolean> {
      const channel = await store.get(key);
      return channel !== undefined && pendingOpens.has(channel.channelId);
    },
    /** The seller took the open of the channel under `key` (if one was pending): its next credential is a voucher. */
    async openTaken(key: string): Promise<void> {
      if (pendingOpens.size === 0) return;
      const channel = await store.get(key);
      if (channel) pendingOpens.delete(channel.channelId);
    },
    /** Drops a pending open of a channel given up. */
    forget(channelId: Hex): void {
      pendingOpens.delete(channelId);
      requests.delete(channelId);
    },
  };
}

function max(a: bigint, b: bigint) {
  return a > b ? a : b;
}
