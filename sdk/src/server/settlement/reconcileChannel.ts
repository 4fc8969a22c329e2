import type { Hex } from "viem";
import { getChannel } from "../../channel/getChannel.js";
import { onChain } from "../chain.js";
import type { PaymentGate } from "../createPaymentGate.js";
import type { ChannelRecord } from "../store/SessionStore.js";
import { inScope, type StoreScope } from "../scopedStore.js";

export type ReconcileChannelParameters = {
  gate: PaymentGate;
  scope: StoreScope;
  channelId: Hex;
  /** Read the chain as of this block (a confirmed one) instead of the latest. */
  blockNumber?: bigint | undefined;
  /** Called when the chain shows a forced close the store did not record. */
  onCloseRequested?: (channel: ChannelRecord) => void;
};

/**
 * Brings a stored channel of this gate in line with the chain: a deposit or settlement made elsewhere, a
 * forced close requested (or cancelled by a top-up), a finalize. Read as of the latest block, a
 * `closing` channel that is not finalized goes back to `open` (its close did not happen). Resolves
 * with the record as stored afterwards, or undefined when there is none in scope.
 */
export async function reconcileChannel({ gate, scope, channelId, blockNumber, onCloseRequested }: ReconcileChannelParameters): Promise<ChannelRecord | undefined> {
  const { chain, store } = gate;
  const onChainChannel = await onChain("read the channel", () => getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId, blockNumber }));
  if (onChainChannel === null) return undefined;
  let requested = false;
  const updated = await store.withChannel(channelId, async (tx) => {
    const current = tx.channel;
    if (!current || !inScope(scope)(current) || current.status === "closed") return undefined;
    const latest = blockNumber === undefined;
    const next: ChannelRecord = {
      ...current,
      deposit: onChainChannel.deposit > current.deposit ? onChainChannel.deposit : current.deposit,
      settledOnChain: onChainChannel.settled > current.settledOnChain ? onChainChannel.settled : current.settledOnChain,
      closeRequestedAt: onChainChannel.closeRequestedAt,
      status: onChainChannel.finalized ? "closed" : current.status === "closing" && latest ? "open" : current.status,
    };
    if (sameState(current, next)) return current;
    requested = current.closeRequestedAt === 0n && next.closeRequestedAt !== 0n;
    const stored = { ...next, updatedAt: gate.now() };
    await tx.putChannel(stored);
    return stored;
  });
  if (updated) gate.publish(updated);
  if (updated && requested) onCloseRequested?.(updated);
  return updated;
}

function sameState(a: ChannelRecord, b: ChannelRecord): boolean {
  return a.deposit === b.deposit && a.settledOnChain === b.settledOnChain && a.closeRequestedAt === b.closeRequestedAt && a.status === b.status;
}
