import { PaymentCapError } from "../errors/PaymentCapError.js";
import type { ClientChannel } from "./ClientChannel.js";

/**
 * A seller's `requiredCumulative`, from an `insufficient-balance` problem on a request or from a
 * `payment-need-voucher` event in its stream; `startSpent` is what the client knew as spent (from
 * receipts) when the request began, before anything the seller said while answering it, and `received`
 * the content events the stream had delivered when the seller asked.
 */
export type Demand = { kind: "request"; required: bigint; startSpent: bigint } | { kind: "stream"; required: bigint; startSpent: bigint; received: bigint };

export type AssertDemandParameters = {
  demand: Demand;
  channel: ClientChannel;
  /** The challenge's price per unit (already within `maxPricePerUnit`). */
  price: bigint;
  maxUnitsPerRequest: bigint;
  maxUnitsPerStream: bigint;
  /** Units a stream's vouchers may run ahead of what it delivered (see `prepayTarget`). */
  prepayUnits: bigint;
};

/** What was delivered before the request began: the spent receipts reported, never above what this client signed. */
export const deliveredBefore = (demand: Demand, channel: ClientChannel) => (demand.startSpent < channel.cumulativeAmount ? demand.startSpent : channel.cumulativeAmount);

/**
 * Throws a PaymentCapError, before anything is signed, when a seller demands more than the request can
 * cost: what was delivered before it began plus `maxUnitsPerRequest` units. In a stream each demand is
 * at most `maxUnitsPerRequest` units above the last voucher; at most what the stream delivered (each
 * content event received counted as up to `maxUnitsPerRequest` units) plus the prepay window; and the
 * stream at most `maxUnitsPerStream` units above what was delivered when it began. A larger demand is
 * refused whole, never partly paid.
 */
export function assertDemand({ demand, channel, price, maxUnitsPerRequest, maxUnitsPerStream, prepayUnits }: AssertDemandParameters): void {
  const { required } = demand;
  const delivered = deliveredBefore(demand, channel);
  if (demand.kind === "request") {
    // From the request's start: receipts on the refusals themselves could otherwise raise it attempt by attempt.
    const limit = delivered + maxUnitsPerRequest * price;
    if (required > limit) {
      throw new PaymentCapError("maxUnitsPerRequest", `The seller asks for a voucher of ${required}; a request can cost at most ${maxUnitsPerRequest} units (up to ${limit})`);
    }
    return;
  }
  const step = channel.cumulativeAmount + maxUnitsPerRequest * price;
  if (required > step) {
    throw new PaymentCapError("maxUnitsPerRequest", `The stream asks for a voucher of ${required}, more than ${maxUnitsPerRequest} units above the last one (up to ${step})`);
  }
  // Judged against the events this client received, not the seller's receipts: a seller cannot prepay
  // itself past the window by claiming deliveries that never arrived.
  const ahead = delivered + (demand.received * maxUnitsPerRequest + prepayUnits) * price;
  if (required > ahead) {
    throw new PaymentCapError("prepayUnits", `The stream asks for a voucher of ${required} after ${demand.received} events; at most ${prepayUnits} units ahead of them (up to ${ahead})`);
  }
  const limit = delivered + maxUnitsPerStream * price;
  if (required > limit) {
    throw new PaymentCapError("maxUnitsPerStream", `The stream asks for a voucher of ${required}; a stream can cost at most ${maxUnitsPerStream} units (up to ${limit})`);
  }
}
