import { type Hex, parseEventLogs } from "viem";
import { getBlockNumber, getLogs } from "viem/actions";
import { getChannel } from "../channel/getChannel.js";
import { tollgateEscrowAbi } from "../generated/tollgateEscrowAbi.js";
import { settleChannelBatch } from "../transactions/settleChannelBatch.js";
import { onChain } from "./chain.js";
import type { PaymentGate } from "./createPaymentGate.js";
import type { ChannelRecord } from "./store/SessionStore.js";

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
  /** Receives what the service did and what failed; failures are retried on the next run. */
  onEvent?: (event: SettlementEvent) => void;
};

export type SettlementEvent =
  | { type: "settled"; channelIds: Hex[]; amount: bigint; txHash: Hex }
  | { type: "closed"; channelId: Hex; reason: "close-requested" | "idle"; txHash: Hex | null }
  | { type: "close-requested"; channelId: Hex; closeRequestedAt: bigint }
  | { type: "error"; action: string; error: unknown };

export type SettlementService = {
  /** Runs `runOnce` every `interval` until `stop`. */
  start(): void;
  stop(): Promise<void>;
  /** Watches for forced closes, closes idle channels and settles when the policy says so. */
  runOnce(): Promise<void>;
  /** Settles every channel with unsettled vouchers now, whatever the policy. */
  settleAll(): Promise<void>;
};

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Turns accepted vouchers into on-chain payouts without losing any: it settles in batches when the
 * unsettled amount, count or age passes the policy; closes idle channels; and when a payer starts a
 * forced close it closes the channel with the highest voucher at once, long before the grace period
 * ends. The store stays the source of truth: a payout is recorded only after its transaction succeeded,
 * and a failed run is simply retried by the next one.
 */
export function createSettlementService({
  gate,
  policy = {},
  interval = 5_000,
  batchSize = 100,
  lookbackBlocks = 10_000n,
  onEvent = () => {},
}: SettlementServiceParameters): SettlementService {
  const { chain, store } = gate;
  const maxAge = policy.maxAge ?? HOUR;
  const idleAfter = policy.idleAfter ?? 30 * DAY;
  /** When each channel's oldest unsettled voucher was accepted (as far as this process saw). */
  const unsettledSince = new Map<Hex, number>();
  let nextBlock: bigint | undefined;
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

  /** Forced closes requested on-chain since the last look, for channels this server holds vouchers on. */
  async function watchCloseRequests(): Promise<ChannelRecord[]> {
    const latest = await onChain("read the block number", () => getBlockNumber(chain.publicClient));
    const fromBlock = nextBlock ?? (latest > lookbackBlocks ? latest - lookbackBlocks : 0n);
    if (fromBlock > latest) return [];
    const logs = await onChain("read CloseRequested events", () =>
      getLogs(chain.publicClient, {
        address: chain.escrow,
        event: tollgateEscrowAbi.find((item) => item.type === "event" && item.name === "CloseRequested")!,
        fromBlock,
        toBlock: latest,
      }),
    );
    const requested: ChannelRecord[] = [];
    for (const { args } of parseEventLogs({ abi: tollgateEscrowAbi, eventName: "CloseRequested", logs })) {
      const updated = await store.withChannel(args.channelId, async (tx) => {
        const current = tx.channel;
        if (!current || current.status === "closed") return undefined;
        const next = { ...current, closeRequestedAt: args.closeRequestedAt, updatedAt: gate.now() };
        await tx.putChannel(next);
        return next;
      });
      if (updated) {
        onEvent({ type: "close-requested", channelId: updated.channelId, closeRequestedAt: updated.closeRequestedAt });
        requested.push(updated);
      }
    }
    nextBlock = latest + 1n;
    return requested;
  }

  async function close(channel: ChannelRecord, reason: "close-requested" | "idle") {
    const closed = await gate.closeChannel(channel.channelId);
    onEvent({ type: "closed", channelId: channel.channelId, reason, txHash: closed.lastTxHash });
  }

  /**
   * Brings a channel the chain has moved past (settled elsewhere, finalized by a payer's withdraw, a
   * close whose outcome was unknown) back in line with it.
   */
  async function reconcile(channelId: Hex) {
    const onChainChannel = await onChain("read the channel", () => getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId }));
    if (onChainChannel === null) return;
    const updated = await store.withChannel(channelId, async (tx) => {
      const current = tx.channel;
      if (!current) return undefined;
      const next: ChannelRecord = {
        ...current,
        deposit: onChainChannel.deposit,
        settledOnChain: onChainChannel.settled > current.settledOnChain ? onChainChannel.settled : current.settledOnChain,
        closeRequestedAt: onChainChannel.closeRequestedAt,
        status: onChainChannel.finalized ? "closed" : current.status === "closing" ? "open" : current.status,
        updatedAt: gate.now(),
      };
      await tx.putChannel(next);
      return next;
    });
    if (updated) gate.publish(updated);
  }

  async function settle(channels: ChannelRecord[]) {
    for (let start = 0; start < channels.length; start += batchSize) {
      const batch = channels.slice(start, start + batchSize);
      try {
        const { hash, amount } = await onChain("settle", () =>
          settleChannelBatch({
            client: chain.walletClient,
            publicClient: chain.publicClient,
            timeout: chain.timeout,
            escrow: chain.escrow,
            token: batch[0]!.token,
            claims: batch.map((channel) => ({ channelId: channel.channelId, cumulativeAmount: channel.acceptedCumulative, signature: channel.acceptedSignature! })),
          }),
        );
        for (const settled of batch) {
          const updated = await store.withChannel(settled.channelId, async (tx) => {
            const current = tx.channel ?? settled;
            const settledOnChain = settled.acceptedCumulative > current.settledOnChain ? settled.acceptedCumulative : current.settledOnChain;
            const next = { ...current, settledOnChain, lastTxHash: hash, updatedAt: gate.now() };
            await tx.putChannel(next);
            return next;
          });
          gate.publish(updated);
        }
        onEvent({ type: "settled", channelIds: batch.map((channel) => channel.channelId), amount, txHash: hash });
      } catch (error) {
        // One stale claim reverts the whole batch: re-read those channels so the next run leaves them out.
        report("settle")(error);
        for (const channel of batch) await reconcile(channel.channelId).catch(report("reconcile"));
      }
    }
  }

  async function unsettledChannels(): Promise<ChannelRecord[]> {
    const open = await store.listChannels({ status: "open", payee: gate.recipient });
    return open.filter(hasUnsettled);
  }

  async function runOnce() {
    const now = gate.now();
    const forced = await watchCloseRequests().catch((error) => {
      report("watch")(error);
      return [];
    });
    const open = await store.listChannels({ status: "open", payee: gate.recipient });
    // Forced closes first: every other pending one too, in case an earlier close attempt failed.
    for (const channel of open.filter((c) => c.closeRequestedAt !== 0n || forced.some((f) => f.channelId === c.channelId))) {
      await close(channel, "close-requested").catch(report("close"));
    }
    for (const channel of await store.listChannels({ status: "closing", payee: gate.recipient })) {
      await reconcile(channel.channelId).catch(report("reconcile"));
    }
    for (const channel of open.filter((c) => c.closeRequestedAt === 0n && c.reserved === 0n && now - c.updatedAt >= idleAfter)) {
      await close(channel, "idle").catch(report("close"));
    }

    const pending = (await unsettledChannels()).filter((c) => c.closeRequestedAt === 0n);
    if (pending.length === 0) return;
    const total = pending.reduce((sum, c) => sum + (c.acceptedCumulative - c.settledOnChain), 0n);
    const oldest = Math.min(...pending.map((c) => unsettledSince.get(c.channelId) ?? setSince(c.channelId, now)));
    const due =
      (policy.amount !== undefined && total >= policy.amount) ||
      (policy.channels !== undefined && pending.length >= policy.channels) ||
      now - oldest >= maxAge;
    if (due) await settle(pending);
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
    settleAll: () => runExclusive(async () => settle(await unsettledChannels())),
  };
}

function hasUnsettled(channel: ChannelRecord): boolean {
  return channel.status === "open" && channel.acceptedSignature !== null && channel.acceptedCumulative > channel.settledOnChain;
}
