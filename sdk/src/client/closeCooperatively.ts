import type { Hex } from "viem";
import { formatCredential } from "../protocol/credential.js";
import { formatSessionPayload } from "../session/payload.js";
import type { ClientChannel } from "./ClientChannel.js";
import type { PayingContext } from "./PayingContext.js";
import type { Offer } from "./readOffer.js";
import { readProblem } from "./readProblem.js";
import { signChannelVoucher } from "./signChannelVoucher.js";
import { takeReceipt } from "./takeReceipt.js";

export type CloseResult = { channelId: Hex; txHash: Hex | null; settled: bigint; refund: bigint };

export type CloseCooperativelyParameters = {
  context: PayingContext;
  channel: ClientChannel;
  /** Where the close is sent: the seller's URL on the channel's origin. */
  url: string;
  offer: Offer;
  fetch: typeof fetch;
  /** The fresh offer of a 402 (an expired challenge), or undefined. */
  refresh(response: Response): Offer | undefined;
};

/**
 * Asks the seller to close the channel with a final voucher for exactly the `spent` its latest receipt
 * reported (signed fresh when below the last voucher, never above what was signed), so that the seller
 * captures only what was delivered. The channel's highest voucher stays on record: it is still the most
 * the seller could collect if it ignored the final one.
 */
export async function closeCooperatively({ context, channel, url, offer, fetch, refresh }: CloseCooperativelyParameters): Promise<CloseResult> {
  const { store, save } = context;
  const current = (await store.get(channel.key)) ?? channel;
  const final = current.spent;
  const signature = final === current.cumulativeAmount ? current.signature! : await signChannelVoucher({ context, channel: current, cumulativeAmount: final });
  const payload = formatSessionPayload({ action: "close", channelId: current.channelId, cumulativeAmount: final, signature });
  let closeOffer = offer;
  // GET: every paid URL answers it (a GET-only route 404s a POST), and the gate answers a close
  // credential itself on any method, without running the route's handler.
  const send = () => fetch(url, { method: "GET", headers: { authorization: formatCredential({ challenge: closeOffer.challenge, payload }) } });
  let response = await send();
  // The cached challenge may have expired since it was issued: the 402 carries a fresh one to try once.
  const fresh = response.status === 402 && (await readProblem(response)).type === "session/challenge-not-found" ? refresh(response) : undefined;
  if (fresh) {
    closeOffer = fresh;
    response = await send();
  }
  if (!response.ok) throw new Error(`The seller refused to close: ${response.status} ${await response.text()}`);
  const result = (await response.json()) as { txHash: Hex | null; settled: string; refund: string };
  await takeReceipt({ context, key: current.key, response });
  const settled = BigInt(result.settled);
  await save({ ...((await store.get(current.key)) ?? current), status: "closed", spent: settled });
  return { channelId: current.channelId, txHash: result.txHash, settled, refund: BigInt(result.refund) };
}
