import { getChannel } from "../channel/getChannel.js";
import { UntrustedServerError } from "../errors/UntrustedServerError.js";
import type { ClientChannel } from "./ClientChannel.js";
import type { PayingContext } from "./PayingContext.js";

export type CheckRefusedChannelParameters = {
  context: PayingContext;
  channel: ClientChannel;
  /** The seller's problem type, e.g. `session/channel-not-found`. */
  problem: string;
};

/**
 * A seller says it will take no more vouchers on a channel (not found, finalized): believed only when the
 * chain agrees, before the channel is given up for a new one. Returns the status the channel gets:
 * `closed` when the chain shows it finalized (its deposit came back), `abandoned` when the chain does not
 * show it or shows a forced close under way (its deposit may still be escrowed). A channel the chain
 * shows live and open is kept, and the claim is refused with an UntrustedServerError.
 */
export async function checkRefusedChannel({ context, channel, problem }: CheckRefusedChannelParameters): Promise<"closed" | "abandoned"> {
  const live = await getChannel({ client: context.publicClient, escrow: channel.escrow, channelId: channel.channelId });
  if (live === null) return "abandoned";
  if (live.finalized) return "closed";
  if (live.closeRequestedAt > 0n) return "abandoned";
  throw new UntrustedServerError(`The seller answered ${problem} for channel ${channel.channelId}, which the chain shows open with a deposit of ${live.deposit}`);
}
