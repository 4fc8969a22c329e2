import type { Hex } from "viem";
import type { PaymentChallenge } from "../../../protocol/challenge.js";
import { PaymentProblemError } from "../../../protocol/problems.js";
import type { ClosePayload } from "../../../session/payload.js";
import { closeChannel } from "../../../transactions/closeChannel.js";
import { acceptVoucher } from "../../accounting.js";
import { onChain } from "../../chain.js";
import { receiptHeaders } from "../../core/receiptHeaders.js";
import type { ChannelRecord } from "../../store/SessionStore.js";
import { applyFinalVoucher } from "./applyFinalVoucher.js";
import type { ChannelHolds } from "./createChannelHolds.js";
import type { ChannelRecords } from "./createChannelRecords.js";
import { sessionReceipt } from "./sessionReceipt.js";
import type { SessionContext } from "./SessionContext.js";
import type { VerifyVoucherSignature } from "./verifyVoucherSignature.js";

export type ChannelClosingDependencies = { records: ChannelRecords; holds: ChannelHolds; verifySignature: VerifyVoucherSignature };

/** The seller's closes: the buyer's `close` credential, and `gate.closeChannel`. */
export function createChannelClosing(context: SessionContext, { records, holds, verifySignature }: ChannelClosingDependencies) {
  const { store, chain, now, publish } = context;

  /**
   * Closes a channel on-chain with the voucher the store holds after `update` (the highest accepted, or
   * the client's final one for what was delivered). The channel is marked `closing` before the
   * transaction and `closed` after it, so a crash in between is visible and reconciled from the chain.
   * A voucher this process admitted for requests still being served, and not stored yet, counts too.
   */
  async function closeWithHighestVoucher(channelId: Hex, update: (channel: ChannelRecord) => ChannelRecord = (c) => c): Promise<ChannelRecord> {
    const closing = await store.withChannel(channelId, async (tx) => {
      const current = tx.channel;
      if (!current) throw new PaymentProblemError("channel-not-found", { extensions: { channelId } });
      if (current.status === "closed") throw new PaymentProblemError("channel-finalized", { extensions: { channelId } });
      const held = holds.voucher(channelId);
      const updated: ChannelRecord = { ...update(held ? acceptVoucher(current, held, 0n) : current), status: "closing", updatedAt: now() };
      await tx.putChannel(updated);
      return updated;
    });
    const { hash } = await onChain("close the channel", () =>
      closeChannel({
        client: chain.walletClient,
        publicClient: chain.publicClient,
        timeout: chain.timeout,
        escrow: chain.escrow,
        channelId,
        cumulativeAmount: closing.acceptedCumulative,
        ...(closing.acceptedSignature === null ? {} : { signature: closing.acceptedSignature }),
      }),
    );
    const closed = await store.withChannel(channelId, async (tx) => {
      const current = tx.channel ?? closing;
      const settledOnChain = closing.acceptedCumulative > current.settledOnChain ? closing.acceptedCumulative : current.settledOnChain;
      const updated: ChannelRecord = { ...current, status: "closed", settledOnChain, lastTxHash: hash, updatedAt: now() };
      await tx.putChannel(updated);
      return updated;
    });
    publish(closed);
    return closed;
  }

  /** The `close` action: the client's final voucher closes on-chain if it covers what was delivered, else the highest held. */
  async function closeAction(payload: ClosePayload, price: bigint, challenge: PaymentChallenge): Promise<Response> {
    const record = await records.knownChannel(payload.channelId, price);
    const voucher = { cumulativeAmount: payload.cumulativeAmount, signature: payload.signature };
    await verifySignature(record, voucher);
    await records.adopt(record);
    const closed = await closeWithHighestVoucher(payload.channelId, (current) => applyFinalVoucher(current, voucher, holds.held(payload.channelId)));
    const receipt = sessionReceipt({ channel: closed, challenge, at: now(), txHash: closed.lastTxHash! });
    return Response.json(
      {
        channelId: closed.channelId,
        settled: closed.settledOnChain.toString(),
        refund: (closed.deposit - closed.settledOnChain).toString(),
        txHash: closed.lastTxHash,
      },
      { headers: receiptHeaders(receipt) },
    );
  }

  return { closeAction, closeWithHighestVoucher };
}
