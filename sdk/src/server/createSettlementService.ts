import type { Address, Hex } from "viem";
import { getBlockNumber } from "viem/actions";
import { onChain } from "./chain.js";
import type { PaymentGate } from "./createPaymentGate.js";
import { gateScope } from "./settlement/gateScope.js";
import { reconcileChannel } from "./settlement/reconcileChannel.js";
import type { SettlementEvent } from "./settlement/SettlementEvent.js";
import { settleAcceptedPayments } from "./settlement/settleAcceptedPayments.js";
import { isRevocable, settleClaims } from "./settlement/settleClaims.js";
import { createCloseWatcher } from "./settlement/watchCloseRequests.js";
import type { ChannelRecord } from "./store/SessionStore.js";

export type { SettlementEvent } from "./settlement/SettlementEvent.js";

export type SettlementPolicy = {
  /** Settle once this much (base units) is accepted but not yet settled across the gate's channels. */
  amount?: bigint;
  /** Settle once this many channels hold unsettled vouchers. */
  channels?: number;
  /** Settle a voucher at the latest this many milliseconds after it was accepted. Defaults to one hour. */
  maxAge?: number;
  /** Close channels without activity for this many milliseconds. Defaults to 30 days (the draft's advice). */
  idleAfter?: number;
};

export type SettlementServiceParameters = {
  gate: PaymentGate;
  policy?: SettlementPolicy;
  /** Milliseconds between runs when started. Defaults to 5 000. */
  interval?: number;
  /** Channels per `settleBatch` transaction. Defaults to 100. */
  batchSize?: number;
  /** How many blocks back the close watcher looks on its first run. Defaults to 10 000. */
  lookbackBlocks?: bigint;
  /** Blocks below the last scanned one that each run of the close watcher scans again. Defaults to 64. */
  overlapBlocks?: bigint;
  /** Blocks behind the head a close request (or a channel's state) must be before it is acted on. Defaults to 2. */
  confirmationBlocks?: bigint;
  /**
   * Milliseconds between reads of every channel holding unsettled vouchers from the chain, which catch
   * a forced close the logs missed. Defaults to 3 minutes (the escrow's grace period is 15).
   */
  reconcileInterval?: number;
  /**
   * Milliseconds a one-time payment may stay `pending` before the service resolves it from the chain
   * (its process died before settling it; see `gate.recoverPayments`). Keep it above the longest a paid
   * request can take. Defaults to 15 minutes.
   */
  pendingPaymentAge?: number;
  /** Deferred one-time payments (`deferredSettlement`) per Multicall3 transaction; a full batch is sent at once. Defaults to 100. */
  paymentBatchSize?: number;
  /** Milliseconds after which an accepted (deferred) payment is settled, batch full or not. Defaults to one minute. */
  paymentMaxDelay?: number;
  /** The Multicall3 contract deferred payments are batched through; defaults to the chain definition's `contracts.multicall3`. */
  multicall3?: Address;
  /** Receives what the service did and what failed; failures are retried on the next run. */
  onEvent?: (event: SettlementEvent) => void;
};

export type SettlementService = {
  /** Runs `runOnce` every `interval` until `stop`. */
  start(): void;
  stop(): Promise<void>;
  /** Watches for forced closes, resolves one-time payments a dead process left pending, closes idle channels and settles when the policy says so. */
  runOnce(): Promise<void>;
  /** Settles every channel whose voucher does not exceed what was delivered, and every accepted (deferred) payment, now, whatever the policy. */
  settleAll(): Promise<void>;
};

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Turns accepted vouchers into on-chain payouts without losing any: it settles in batches when the
 * unsettled amount, count or age passes the policy (vouchers of contract wallets on every run); closes
 * idle channels; and when a payer starts a forced close it closes the channel with the highest voucher
 * at once, long before the grace period ends. It touches only its gate's channels (chain, escrow,
 * token, payee), and settles a voucher only once it does not exceed what was delivered. The store stays
 * the source of truth: a payout is recorded only after its transaction succeeded, and a failed run is
 * simply retried by the next one. One-time payments a method deferred (`deferredSettlement`) are
 * settled in Multicall3 batches (settleAcceptedPayments).
 */
export function createSettlementService({
  gate,
  policy = {},
  interval = 5_000,
  batchSize = 100,
  lookbackBlocks = 10_000n,
  overlapBlocks = 64n,
  confirmationBlocks = 2n,
  reconcileInterval = 3 * MINUTE,
  pendingPaymentAge = 15 * MINUTE,
  paymentBatchSize = 100,
  paymentMaxDelay = MINUTE,
  multicall3,
  onEvent = () => {},
}: SettlementServiceParameters): SettlementService {
  const { chain, store } = gate;
  const scope = gateScope(gate);
  const maxAge = policy.maxAge ?? HOUR;
  const idleAfter = policy.idleAfter ?? 30 * DAY;
  /** When each channel's oldest unsettled voucher was accepted (as far as this process saw). */
  const unsettledSince = new Map<Hex, number>();
  let reconciledAt: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;

  gate.onChannelUpdate((channel) => {
    if (hasUnsettled(channel)) {
      if (!unsettledSince.has(channel.channelId)) unsettledSince.set(channel.channelId, gate.now());
    } else {
      unsettledSince.delete(channel.channelId);
    }
  });

  const report = (action: string) => (error: unknown) => onEvent({ type: "error", action, error });
  const onCloseRequested = (channel: ChannelRecord) =>
    onEvent({ type: "close-requested", channelId: channel.channelId, closeRequestedAt: channel.closeRequestedAt });
  const reconcile = (channelId: Hex, blockNumber?: bigint) => reconcileChannel({ gate, scope, channelId, blockNumber, onCloseRequested });
  const watchCloseRequests = createCloseWatcher({ gate, scope, lookbackBlocks, overlapBlocks, confirmationBlocks, onCloseRequested });
  const listChannels = (status: ChannelRecord["status"]) => store.listChannels({ ...scope, status });

  async function close(channel: ChannelRecord, reason: "close-requested" | "idle") {
    const closed = await gate.closeChannel(channel.channelId);
    onEvent({ type: "closed", channelId: channel.channelId, reason, txHash: closed.lastTxHash });
  }

  /** Reads every channel holding unsettled vouchers from the chain, as of a confirmed block. */
  async function reconcileUnsettled() {
    const latest = await onChain("read the block number", () => getBlockNumber(chain.publicClient, { cacheTime: 0 }));
    const blockNumber = latest > confirmationBlocks ? latest - confirmationBlocks : 0n;
    for (const channel of (await listChannels("open")).filter(hasUnsettled)) {
      await reconcile(channel.channelId, blockNumber).catch(report("reconcile"));
    }
  }

  /** Unsettled channels whose voucher does not exceed what was delivered (a prepaid voucher waits for `spent`). */
  async function settleableChannels(): Promise<ChannelRecord[]> {
    return (await listChannels("open")).filter((c) => hasUnsettled(c) && c.closeRequestedAt === 0n && c.acceptedCumulative <= c.spent);
  }

  // A payment close to its authorization's expiry is due: two runs and a minute ahead.
  const settlePayments = (force?: boolean) =>
    settleAcceptedPayments({ gate, multicall3, batchSize: paymentBatchSize, maxDelay: paymentMaxDelay, expiryMargin: 2 * interval + MINUTE, force, onEvent }).catch(report("settle-payments"));
  const settle = (channels: ChannelRecord[]) => settleClaims({ gate, channels, batchSize, reconcile: (id) => reconcile(id), onEvent });

  async function runOnce() {
    const now = gate.now();
    await watchCloseRequests().catch(report("watch"));
    await gate.recoverPayments({ olderThan: pendingPaymentAge }).then(
      (payments) => payments.forEach((payment) => onEvent({ type: "payment-recovered", payment })),
      report("recover-payments"),
    );
    await settlePayments();
    if (reconciledAt === undefined || now - reconciledAt >= reconcileInterval) {
      await reconcileUnsettled().then(() => (reconciledAt = now), report("reconcile"));
    }
    const open = await listChannels("open");
    // Forced closes first: every pending one, in case an earlier close attempt failed.
    for (const channel of open.filter((c) => c.closeRequestedAt !== 0n)) {
      await close(channel, "close-requested").catch(report("close"));
    }
    for (const channel of await listChannels("closing")) {
      await reconcile(channel.channelId).catch(report("reconcile"));
    }
    for (const channel of open.filter((c) => c.closeRequestedAt === 0n && c.reserved === 0n && now - c.updatedAt >= idleAfter)) {
      await close(channel, "idle").catch(report("close"));
    }

    const pending = await settleableChannels();
    if (pending.length === 0) return;
    const total = pending.reduce((sum, c) => sum + (c.acceptedCumulative - c.settledOnChain), 0n);
    const oldest = Math.min(...pending.map((c) => unsettledSince.get(c.channelId) ?? setSince(c.channelId, now)));
    const due =
      (policy.amount !== undefined && total >= policy.amount) ||
      (policy.channels !== undefined && pending.length >= policy.channels) ||
      now - oldest >= maxAge;
    if (due) return settle(pending);
    // A contract wallet can revoke its signature: its vouchers are settled on every run.
    const revocable: ChannelRecord[] = [];
    for (const channel of pending) if (await isRevocable(channel)) revocable.push(channel);
    if (revocable.length > 0) await settle(revocable);
  }

  function setSince(channelId: Hex, at: number) {
    unsettledSince.set(channelId, at);
    return at;
  }

  /** Runs one pass at a time: a tick that finds the previous one still running waits for it. */
  function runExclusive(task: () => Promise<void>): Promise<void> {
    const run = (running ?? Promise.resolve()).then(task, task).catch(report("run"));
    running = run;
    return run;
  }

  function schedule() {
    if (stopped) return;
    timer = setTimeout(() => void runExclusive(runOnce).finally(schedule), interval);
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    runOnce: () => runExclusive(runOnce),
    settleAll: () =>
      runExclusive(async () => {
        await settlePayments(true);
        await settle(await settleableChannels());
      }),
  };
}

function hasUnsettled(channel: ChannelRecord): boolean {
  return channel.status === "open" && channel.acceptedSignature !== null && channel.acceptedCumulative > channel.settledOnChain;
}
