import { type Hex, parseEventLogs } from "viem";
import { getBlockNumber, getLogs } from "viem/actions";
import { tollgateEscrowAbi } from "../../generated/tollgateEscrowAbi.js";
import { onChain } from "../chain.js";
import type { PaymentGate } from "../createPaymentGate.js";
import type { ChannelRecord } from "../store/SessionStore.js";
import type { StoreScope } from "../scopedStore.js";
import { reconcileChannel } from "./reconcileChannel.js";

export type CloseWatcherParameters = {
  gate: PaymentGate;
  scope: StoreScope;
  /** Blocks scanned back from the confirmed head on the first run. */
  lookbackBlocks: bigint;
  /** Blocks below the last scanned one that every run scans again. */
  overlapBlocks: bigint;
  /** Blocks behind the head a close request must be before it is acted on. */
  confirmationBlocks: bigint;
  onCloseRequested: (channel: ChannelRecord) => void;
};

const closeRequested = tollgateEscrowAbi.find((item) => item.type === "event" && item.name === "CloseRequested")!;

/**
 * Watches the escrow's CloseRequested events for the gate's channels. Each call scans from the last
 * scanned block minus `overlapBlocks` to the head minus `confirmationBlocks`: a load-balanced RPC whose
 * logs trail its block number, or a reorg that moves a request, is caught by the next overlapping scan.
 * A log only names a channel: its state is read from the chain and recorded (reconcileChannel), so
 * scanning a block twice, or a request a reorg or a top-up undid, changes nothing.
 */
export function createCloseWatcher({ gate, scope, lookbackBlocks, overlapBlocks, confirmationBlocks, onCloseRequested }: CloseWatcherParameters) {
  const { chain, store } = gate;
  let scannedTo: bigint | undefined;

  return async function watchCloseRequests(): Promise<void> {
    // No cached block number: a stale one would scan nothing new.
    const latest = await onChain("read the block number", () => getBlockNumber(chain.publicClient, { cacheTime: 0 }));
    const confirmed = latest - confirmationBlocks;
    const start = scannedTo === undefined ? confirmed - lookbackBlocks : scannedTo + 1n - overlapBlocks;
    const fromBlock = start > 0n ? start : 0n;
    if (confirmed < fromBlock) return;
    const logs = await onChain("read CloseRequested events", () =>
      getLogs(chain.publicClient, { address: chain.escrow, event: closeRequested, fromBlock, toBlock: confirmed }),
    );
    const channelIds = new Set<Hex>(parseEventLogs({ abi: tollgateEscrowAbi, eventName: "CloseRequested", logs }).map((log) => log.args.channelId));
    for (const channelId of channelIds) {
      const stored = await store.getChannel(channelId);
      if (stored === undefined || stored.status === "closed" || stored.closeRequestedAt !== 0n) continue;
      await reconcileChannel({ gate, scope, channelId, onCloseRequested });
    }
    if (scannedTo === undefined || confirmed > scannedTo) scannedTo = confirmed;
  };
}
