import { PaymentCapError } from "../errors/PaymentCapError.js";
import type { ClientChannel } from "./ClientChannel.js";

/**
 * A seller's `requiredCumulative`, from an `insufficient-balance` problem on a request or from a
 * `payment-need-voucher` event in its stream; `startSpent` is what the client knew as spent (from
 * receipts) when the request began, before anything the seller said while answering it.
 */
export type Demand = { kind: "request" | "stream"; required: bigint; startSpent: bigint };

export type AssertDemandParameters = {
  demand: Demand;
  channel: ClientChannel;
  /** The challenge's price per unit (already within `maxPricePerUnit`). */
  price: bigint;
  maxUnitsPerRequest: bigint;
  maxUnitsPerStream: bigint;
};

/**
 * Throws a PaymentCapError, before anything is signed, when a seller demands more than the request can
 * cost: what was delivered before it began (the spent receipts reported, never above what this client
 * signed) plus `maxUnitsPerRequest` units; in a stream, each demand at most `maxUnitsPerRequest` units above the last
 * voucher and the stream at most `maxUnitsPerStream` units above what was delivered when it began. A
 * larger demand is refused whole, never partly paid. (No prepay window: the client does not sign ahead.)
 */
export function assertDemand({ demand, channel, price, maxUnitsPerRequest, maxUnitsPerStream }: AssertDemandParameters): void {
  const { required } = demand;
  const delivered = demand.startSpent < channel.cumulativeAmount ? demand.startSpent : channel.cumulativeAmount;
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
  const limit = delivered + maxUnitsPerStream * price;
  if (required > limit) {
    throw new PaymentCapError("maxUnitsPerStream", `The stream asks for a voucher of ${required}; a stream can cost at most ${maxUnitsPerStream} units (up to ${limit})`);
  }
}
