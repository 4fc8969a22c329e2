import { PaymentCapError, type PaymentCap } from "../errors/PaymentCapError.js";
import { deliveredBefore, type Demand } from "./assertDemand.js";
import type { ClientChannel } from "./ClientChannel.js";

export type PrepayTargetParameters = {
  /** A stream's demand, already within the caps (see `assertDemand`). */
  demand: Extract<Demand, { kind: "stream" }>;
  /** The channel after any top-up the demand needed. */
  channel: ClientChannel;
  price: bigint;
  prepayUnits: bigint;
  maxUnitsPerStream: bigint;
  /** What `totalBudget` still allows in the channel's currency; undefined without a budget. */
  budgetLeft: bigint | undefined;
};

/**
 * The voucher a stream's demand is answered with: `prepayUnits` units beyond what the stream delivered
 * (what was spent before it began plus one unit per content event received), so that the seller serves
 * the next units from the prepaid balance instead of asking for each. The window never passes the
 * deposit (no top-up just to sign ahead), the stream's `maxUnitsPerStream` or the budget; it never goes
 * below what the seller asked for. With `prepayUnits` 1 it is what an honest seller's pause asks for
 * (one unit past the delivered ones): one voucher per ask, as before there was a window.
 */
export function prepayTarget({ demand, channel, price, prepayUnits, maxUnitsPerStream, budgetLeft }: PrepayTargetParameters): bigint {
  const before = deliveredBefore(demand, channel);
  const caps = [channel.deposit, before + maxUnitsPerStream * price, ...(budgetLeft === undefined ? [] : [channel.cumulativeAmount + budgetLeft])];
  const ahead = lowest(before + (demand.received + prepayUnits) * price, caps);
  return ahead > demand.required ? ahead : demand.required;
}

export type RequestPrepayTargetParameters = {
  /** The channel after any top-up the request needed. */
  channel: ClientChannel;
  price: bigint;
  prepayRequests: bigint;
  maxUnitsPerRequest: bigint;
  /** What this client had signed on the channel when it began counting, and the requests it sent since (this one included). */
  counted: RequestCount;
  /** What `totalBudget` still allows in the channel's currency; undefined without a budget. */
  budgetLeft: bigint | undefined;
};

export type RequestCount = { from: bigint; sent: bigint };

/**
 * The voucher a plain request is paid with when the last one no longer covers it: `prepayRequests`
 * requests beyond what receipts report as spent, so that the next ones replay it (the gate admits an
 * exact replay without a second signature check). Judged against the requests this client sent, not the
 * seller's receipts: the voucher is at most what was signed when counting began, plus
 * `maxUnitsPerRequest` units for each request sent before this one, plus the window. So a seller that
 * reports the window spent after one request gets one request's worth more, not another window. Never
 * past the deposit (no top-up just to sign ahead) or the budget.
 */
export function requestPrepayTarget({ channel, price, prepayRequests, maxUnitsPerRequest, counted, budgetLeft }: RequestPrepayTargetParameters): bigint {
  const spent = channel.spent < channel.cumulativeAmount ? channel.spent : channel.cumulativeAmount;
  const sentBound = counted.from + ((counted.sent - 1n) * maxUnitsPerRequest + prepayRequests) * price;
  const caps = [channel.deposit, sentBound, ...(budgetLeft === undefined ? [] : [channel.cumulativeAmount + budgetLeft])];
  return lowest(spent + prepayRequests * price, caps);
}

/** The least of `wanted` and `caps`. */
function lowest(wanted: bigint, caps: readonly bigint[]): bigint {
  return caps.reduce((least, cap) => (cap < least ? cap : least), wanted);
}

/** Caps that are this client's own limits running out, as opposed to a seller asking past the rules. */
const OWN_LIMITS: readonly PaymentCap[] = ["maxUnitsPerStream", "totalBudget", "maxDeposit", "maxTotalDeposit"];

/**
 * Whether a stream's ask refused with `error` can be left unanswered for now: the refusal is one of the
 * client's own limits and the last voucher still prepays at least one unit past the events received, so
 * the seller asked ahead and the stream may end before it needs more. The seller's pause asks again once
 * the prepaid units are delivered, and that ask is refused with the error.
 */
export function canDecline({ error, demand, channel, price }: { error: unknown; demand: Extract<Demand, { kind: "stream" }>; channel: ClientChannel | undefined; price: bigint }): boolean {
  if (!(error instanceof PaymentCapError) || !OWN_LIMITS.includes(error.cap) || channel === undefined) return false;
  return channel.cumulativeAmount >= deliveredBefore(demand, channel) + (demand.received + 1n) * price;
}
