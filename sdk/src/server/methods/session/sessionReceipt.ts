import type { Hex } from "viem";
import type { PaymentChallenge } from "../../../protocol/challenge.js";
import type { PaymentReceipt } from "../../../protocol/receipt.js";
import type { ChannelRecord } from "../../store/SessionStore.js";

export type SessionReceiptParameters = {
  channel: ChannelRecord;
  /** The challenge the credential answered. */
  challenge: PaymentChallenge;
  /** The gate's clock, in milliseconds. */
  at: number;
  /** Units this response was charged for. */
  units?: bigint;
  /** The close transaction, for a `close` credential's answer. */
  txHash?: Hex;
};

/** The draft's session receipt: the channel's accounting after this request. */
export function sessionReceipt({ channel, challenge, at, units, txHash }: SessionReceiptParameters): PaymentReceipt {
  return {
    method: "evm",
    intent: "session",
    status: "success" as const,
    timestamp: new Date(at).toISOString(),
    reference: channel.channelId,
    challengeId: challenge.id,
    channelId: channel.channelId,
    chainId: channel.chainId,
    acceptedCumulative: channel.acceptedCumulative.toString(),
    spent: channel.spent.toString(),
    ...(units === undefined ? {} : { units: Number(units) }),
    ...(txHash === undefined ? {} : { txHash }),
  };
}
