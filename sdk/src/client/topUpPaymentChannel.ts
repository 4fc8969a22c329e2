import { signTopUpAuthorization } from "../authorization/signTopUpAuthorization.js";
import { getTokenDomain } from "../authorization/getTokenDomain.js";
import { PaymentCapError } from "../errors/PaymentCapError.js";
import type { SessionPayload } from "../session/payload.js";
import { topUpChannel } from "../transactions/topUpChannel.js";
import { fundsByAuthorization } from "./fundsByAuthorization.js";
import type { ClientChannel } from "./ClientChannel.js";
import { openingDeposit, randomSalt } from "./openPaymentChannel.js";
import type { PayingContext } from "./PayingContext.js";
import type { Offer } from "./readOffer.js";

export type TopUpPaymentChannelParameters = { context: PayingContext; channel: ClientChannel; offer: Offer; needed: bigint };

/**
 * Adds funds so that the deposit covers `needed`, by the configured top-up or more, within `maxDeposit`
 * and `maxTotalDeposit`. When the seller pays gas, the top-up is an authorization returned to go with the
 * next voucher (the draft's deposit extension); otherwise it is sent on-chain here.
 */
export async function topUpPaymentChannel({ context, channel, offer, needed }: TopUpPaymentChannelParameters): Promise<{ channel: ClientChannel; deposit?: SessionPayload }> {
  const { caps } = offer;
  // Not `channel.deposit`: that is the total so far, and top-ups of it would double until they passed maxDeposit.
  const configured = caps.topUpAmount ?? openingDeposit(offer);
  const shortfall = needed - channel.deposit;
  const amount = configured > shortfall ? configured : shortfall;
  if (amount > caps.maxDeposit) throw new PaymentCapError("maxDeposit", `A top-up of ${amount} would pass the deposit cap ${caps.maxDeposit}`);
  return context.limits.withinDeposits(channel.token, amount, async () => {
    if (await fundsByAuthorization({ context, offer })) {
      const topUpSalt = randomSalt();
      const { signature, ...authorization } = await signTopUpAuthorization({
        account: context.account,
        tokenDomain: await getTokenDomain({ client: context.publicClient, token: channel.token }),
        escrow: channel.escrow,
        channelId: channel.channelId,
        additionalDeposit: amount,
        topUpSalt,
        validBefore: BigInt(Math.floor(Date.now() / 1000) + context.authorizationTtl),
      });
      return {
        channel: await context.save({ ...channel, deposit: channel.deposit + amount }),
        deposit: { action: "topUp", type: "authorization", channelId: channel.channelId, salt: topUpSalt, authorization, signature, additionalDeposit: amount },
      };
    }
    await context.transacting(() => topUpChannel({ ...context.transactionOptions, escrow: channel.escrow, channelId: channel.channelId, additionalDeposit: amount }));
    return { channel: await context.save({ ...channel, deposit: channel.deposit + amount, closeRequestedAt: 0n }) };
  });
}
