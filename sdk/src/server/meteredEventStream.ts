import type { Hex } from "viem";
import { PaymentProblemError } from "../protocol/problems.js";
import { available, finishCharge, insufficientBalance, reserve } from "./accounting.js";
import type { PaymentGate } from "./createPaymentGate.js";
import type { SessionPayment } from "./core/GateMethod.js";
import type { ChannelRecord } from "./store/SessionStore.js";
import { uuidv7 } from "./uuidv7.js";

/** One piece of metered content: a string is one unit of the default event type. */
export type MeteredChunk = string | { data: unknown; units?: bigint; event?: string };

export type MeteredEventStreamParameters = {
  gate: PaymentGate;
  /** A session's payment (narrow with `payment.method === "session"`): a stream is charged from the channel as it goes. */
  payment: SessionPayment;
  /** Price per unit, in base units (the route's `amount`). */
  price: bigint;
  source: AsyncIterable<MeteredChunk>;
  /** Milliseconds to wait for a higher voucher after asking for one. Defaults to 60 000. */
  voucherTimeout?: number;
  /** How often to look at the store for a voucher another server instance accepted. Defaults to 500 ms. */
  pollInterval?: number;
  /** Ends the stream early, e.g. the request's `signal` when the client goes away. */
  signal?: AbortSignal;
};

const EVENT_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * An SSE response that charges each unit before sending it, from the channel's prepaid balance (accepted
 * vouchers not yet spent). When that balance falls below half of the most a voucher left prepaid, it
 * sends a `payment-need-voucher` event while it keeps serving, so that a client signing ahead (a prepay
 * window) answers before the balance runs out; when it does run out it pauses, asks again and waits for a
 * higher voucher (which the client submits to the same URL, to
 * any server instance), then resumes; it ends with a `payment-receipt` event. Content is JSON-encoded in
 * `data` lines, and content event names may not start with `payment-`, so what a handler streams can
 * never forge the payment events.
 */
export function meteredEventStream({
  gate,
  payment,
  price,
  source,
  voucherTimeout = 60_000,
  pollInterval = 500,
  signal,
}: MeteredEventStreamParameters): Response {
  const encoder = new TextEncoder();
  const streamId = uuidv7();
  let sequence = 0;
  let units = 0n;
  let channel = payment.channel;
  /** Set when the consumer cancels the body (HEAD, a closed connection): nothing more is charged. */
  let cancelled = false;
  /** The `requiredCumulative` of the last ask: unanswered while the accepted vouchers are below it. */
  let asked = 0n;
  /** The widest prepaid balance seen, at the first charge after each rise of the accepted vouchers: the client's window. */
  let widest = 0n;
  let seenAccepted = -1n;

  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (event: string, data: unknown) => controller.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
      try {
        for await (const chunk of source) {
          if (signal?.aborted || cancelled) break;
          const { data, units: chunkUnits = 1n, event = "message" } = typeof chunk === "string" ? { data: chunk } : chunk;
          if (!EVENT_NAME.test(event) || event.startsWith("payment-")) throw new Error(`meteredEventStream: invalid event name ${event}`);
          const cost = price * chunkUnits;
          const key = `stream:${streamId}:${sequence++}`;
          while (!(await charge(key, cost, chunkUnits))) {
            if (cancelled) return;
            // Out of prepaid balance: the draft's pause, always announced (an ask ahead may have been declined).
            askForVoucher(channel.spent + channel.reserved + cost);
            if (!(await waitForVoucher(channel.channelId, cost))) {
              send("payment-error", insufficientBalance(channel, cost).toProblemDetails());
              return await finish();
            }
          }
          units += chunkUnits;
          send(event, data);
          // Running low (not out): ask for the next window now, one unanswered ask at a time. A client
          // paying one voucher per ask (a window of one unit) never leaves enough prepaid for this.
          const left = available(channel);
          if (left > 0n && 2n * left < widest && channel.acceptedCumulative >= asked) askForVoucher(channel.acceptedCumulative + cost);
        }
        if (!cancelled) await finish();
      } catch (error) {
        controller.error(error);
      }

      function askForVoucher(required: bigint) {
        asked = required;
        send("payment-need-voucher", {
          channelId: channel.channelId,
          requiredCumulative: required.toString(),
          acceptedCumulative: channel.acceptedCumulative.toString(),
          deposit: channel.deposit.toString(),
        });
      }

      async function finish() {
        if (cancelled) return;
        // The channel as stored now: other requests may have charged it while this stream ran.
        channel = (await gate.store.getChannel(channel.channelId)) ?? channel;
        send("payment-receipt", {
          method: "evm",
          intent: "session",
          status: "success",
          timestamp: new Date(gate.now()).toISOString(),
          reference: channel.channelId,
          challengeId: payment.challengeId,
          channelId: channel.channelId,
          chainId: channel.chainId,
          acceptedCumulative: channel.acceptedCumulative.toString(),
          spent: channel.spent.toString(),
          units: Number(units),
        });
        controller.close();
      }
    },
    cancel() {
      cancelled = true;
    },
  });

  /** Charges one chunk durably; false when the accepted vouchers do not cover it. */
  async function charge(key: string, cost: bigint, chunkUnits: bigint): Promise<boolean> {
    try {
      channel = await gate.store.withChannel(channel.channelId, async (tx) => {
        const current = tx.channel ?? channel;
        if (current.acceptedCumulative > seenAccepted) {
          seenAccepted = current.acceptedCumulative;
          if (available(current) > widest) widest = available(current);
        }
        if (current.status !== "open") throw new PaymentProblemError("channel-finalized", { extensions: { channelId: current.channelId } });
        // Keys are this stream's own (a random stream id and a sequence number): never seen before.
        const reserved = await reserve({ tx, channel: current, key, cost, units: chunkUnits, usage: payment.usage, now: gate.now() });
        const committed = await finishCharge(tx, reserved.channel, key, "committed", gate.now());
        await tx.putChannel(committed);
        return committed;
      });
      gate.publish(channel);
      return true;
    } catch (error) {
      if (error instanceof PaymentProblemError && error.problem === "insufficient-balance") {
        channel = (await gate.store.getChannel(channel.channelId)) ?? channel;
        return false;
      }
      throw error;
    }
  }

  /** Resolves true once the channel's accepted vouchers cover `cost` again, false on timeout or abort. */
  function waitForVoucher(channelId: Hex, cost: bigint): Promise<boolean> {
    return new Promise((resolve) => {
      const covered = (candidate: ChannelRecord) => available(candidate) >= cost;
      let done = false;
      const settle = (result: boolean) => {
        if (done) return;
        done = true;
        unsubscribe();
        clearInterval(poll);
        clearTimeout(timeout);
        signal?.removeEventListener("abort", onAbort);
        resolve(result);
      };
      const unsubscribe = gate.onChannelUpdate((update) => {
        if (update.channelId === channelId && covered(update)) settle(true);
      });
      const poll = setInterval(async () => {
        const stored = await gate.store.getChannel(channelId).catch(() => undefined);
        if (stored && covered(stored)) settle(true);
      }, pollInterval);
      const timeout = setTimeout(() => settle(false), voucherTimeout);
      const onAbort = () => settle(false);
      signal?.addEventListener("abort", onAbort);
    });
  }

  return new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" },
  });
}
