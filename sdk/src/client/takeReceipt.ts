import { UntrustedServerError } from "../errors/UntrustedServerError.js";
import { parseReceipt } from "../protocol/receipt.js";
import type { ClientChannel } from "./ClientChannel.js";
import type { PayingContext } from "./PayingContext.js";

export type TakeReceiptParameters = {
  context: PayingContext;
  /** The key of the channel the receipt is for. */
  key: string;
} & ({ response: Response } | { receipt: Record<string, unknown> });

/**
 * Takes the seller's receipt (a response's `payment-receipt` header, or a stream's final event) into the
 * channel, refusing one that claims more than this client signed with an UntrustedServerError.
 */
export async function takeReceipt(parameters: TakeReceiptParameters): Promise<ClientChannel | undefined> {
  const { context, key } = parameters;
  const channel = await context.store.get(key);
  let receipt: Record<string, unknown>;
  if ("response" in parameters) {
    const header = parameters.response.headers.get("payment-receipt");
    if (header === null) return channel;
    receipt = parseReceipt(header);
  } else receipt = parameters.receipt;
  if (!channel || receipt.channelId !== channel.channelId) return channel;
  const accepted = BigInt(String(receipt.acceptedCumulative));
  const spent = BigInt(String(receipt.spent));
  if (accepted > channel.cumulativeAmount || spent > accepted) {
    throw new UntrustedServerError(`The receipt claims ${accepted} accepted and ${spent} spent; this client signed at most ${channel.cumulativeAmount}`);
  }
  // A seller's spent only grows: an older receipt arriving late (a stream's final event) does not lower it.
  return spent <= channel.spent ? channel : context.save({ ...channel, spent });
}
