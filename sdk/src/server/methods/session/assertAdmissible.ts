import { PaymentProblemError } from "../../../protocol/problems.js";
import type { ChannelRecord } from "../../store/SessionStore.js";

/** Whether any action may still use the channel: open, with no forced close pending. */
export function isAdmissible(channel: ChannelRecord): boolean {
  return channel.status === "open" && channel.closeRequestedAt === 0n;
}

/**
 * Refuses a channel no action may use any more: closed or being closed by the seller, or with a forced
 * close pending (the payer can withdraw once the grace period ends, so nothing more is served on it).
 * Called on the channel as the admission transaction reads it, so a close recorded by another instance
 * or the settlement service in the meantime is seen.
 */
export function assertAdmissible(channel: ChannelRecord): void {
  if (isAdmissible(channel)) return;
  const detail = channel.status !== "open" ? `The channel is ${channel.status}` : "A forced close is pending on this channel";
  throw new PaymentProblemError("channel-finalized", { detail, extensions: { channelId: channel.channelId } });
}
