import { type Hex, isAddressEqual } from "viem";
import type { Channel } from "../../../channel/Channel.js";
import { PaymentProblemError } from "../../../protocol/problems.js";
import { readLiveChannel } from "../../chain.js";
import type { ChannelRecord } from "../../store/SessionStore.js";
import type { SessionContext } from "./SessionContext.js";

/** How the session method reads channels: from its store, else from the chain for a channel first seen. */
export function createChannelRecords({ chain, store, chainId, currency, recipient, now }: SessionContext) {
  /** Checks the on-chain channel is one this gate may accept (its payee, its token, room for one unit) and builds its record. */
  function acceptable(channelId: Hex, channel: Channel, price: bigint): ChannelRecord {
    const reason = !isAddressEqual(channel.payee, recipient)
      ? "its payee is not this server's recipient"
      : !isAddressEqual(channel.token, currency)
        ? "its token is not this server's currency"
        : channel.deposit - channel.settled < price
          ? "its remaining deposit does not cover one unit"
          : undefined;
    if (reason) throw new PaymentProblemError("verification-failed", { detail: `Channel ${channelId} cannot be used: ${reason}`, extensions: { channelId } });
    const at = now();
    return {
      channelId,
      chainId,
      escrow: chain.escrow,
      payer: channel.payer,
      payee: channel.payee,
      token: channel.token,
      authorizedSigner: channel.authorizedSigner,
      deposit: channel.deposit,
      settledOnChain: channel.settled,
      // What was settled before this server knew the channel was paid for and delivered.
      acceptedCumulative: channel.settled,
      acceptedSignature: null,
      spent: channel.settled,
      reserved: 0n,
      units: 0n,
      closeRequestedAt: channel.closeRequestedAt,
      status: "open",
      lastTxHash: null,
      createdAt: at,
      updatedAt: at,
    };
  }

  /**
   * The stored channel, or one that exists on-chain for this seller. A channel first seen here is not
   * stored yet: the draft initializes accounting only once the voucher verified, so a request that
   * fails verification leaves the store as it was.
   */
  async function knownChannel(channelId: Hex, price: bigint): Promise<ChannelRecord> {
    const stored = await store.getChannel(channelId);
    if (stored) return stored;
    return acceptable(channelId, await readLiveChannel(chain, channelId), price);
  }

  /** Stores a channel first seen on-chain (after its credential verified), unless another request stored it meanwhile. */
  function adopt(record: ChannelRecord): Promise<ChannelRecord> {
    return store.withChannel(record.channelId, async (tx) => {
      if (tx.channel) return tx.channel;
      await tx.putChannel(record);
      return record;
    });
  }

  /**
   * Re-reads the deposit when a verified voucher goes beyond the one on record (a top-up this server
   * missed). Nothing is stored here: the admission transaction takes the higher deposit.
   */
  async function refreshDeposit(record: ChannelRecord, cumulativeAmount: bigint): Promise<ChannelRecord> {
    if (cumulativeAmount <= record.deposit) return record;
    const onChainChannel = await readLiveChannel(chain, record.channelId);
    if (onChainChannel.closeRequestedAt !== 0n) throw forcedClosePending(record.channelId);
    if (onChainChannel.deposit <= record.deposit) return record;
    return { ...record, deposit: onChainChannel.deposit };
  }

  return { acceptable, knownChannel, adopt, refreshDeposit };
}

export type ChannelRecords = ReturnType<typeof createChannelRecords>;

/** The problem for a channel whose payer asked for a forced close: nothing more is served on it. */
export function forcedClosePending(channelId: Hex): PaymentProblemError {
  return new PaymentProblemError("channel-finalized", { detail: "A forced close is pending on this channel", extensions: { channelId } });
}
