export type FollowPaymentEventsParameters = {
  response: Response;
  /**
   * Called with `requiredCumulative` when the seller asks for a higher voucher (out of balance, or running
   * low), and with the number of content events (any event but `payment-*`) received before the ask: what
   * the stream actually delivered, against which the ask is judged.
   */
  onNeedVoucher: (requiredCumulative: bigint, received: bigint) => Promise<void>;
  /** Receives failures to pay mid-stream; the stream then ends as the seller decides, unless `stopOnError`. */
  onError?: (error: unknown) => void;
  /**
   * Errors the stream with a failure to pay mid-stream (a cap, an unreachable seller), which also closes
   * the connection, instead of leaving the reader waiting until the seller gives up on the voucher.
   */
  stopOnError?: boolean;
  /** Called with the data of the seller's final `payment-receipt` event; if it rejects, the stream errors with its reason. */
  onReceipt?: (receipt: Record<string, unknown>) => Promise<void>;
};

/**
 * Passes a response through unchanged; when it is an event stream, it also watches for the seller's
 * `payment-need-voucher` events and pays them, so the stream resumes without the caller's help.
 */
export function followPaymentEvents({ response, onNeedVoucher, onError = () => {}, stopOnError = false, onReceipt }: FollowPaymentEventsParameters): Response {
  if (response.body === null || !(response.headers.get("content-type") ?? "").startsWith("text/event-stream")) return response;
  const decoder = new TextDecoder();
  let buffer = "";
  let received = 0n;
  const watch = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      controller.enqueue(chunk);
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.search(/\r?\n\r?\n/)) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
        const event = /^event: ?(.*)$/m.exec(block)?.[1] ?? "message";
        if (!event.startsWith("payment-") && /^data:/m.test(block)) received++;
        if (event !== "payment-need-voucher" && (event !== "payment-receipt" || !onReceipt)) continue;
        const data = block
          .split(/\r?\n/)
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.replace(/^data: ?/, ""))
          .join("\n");
        if (event === "payment-receipt") {
          // Awaited, so that a receipt the client refuses errors the stream before it ends.
          await onReceipt!(JSON.parse(data) as Record<string, unknown>);
          continue;
        }
        const fail = (error: unknown) => {
          onError(error);
          if (stopOnError) controller.error(error);
        };
        try {
          const { requiredCumulative } = JSON.parse(data) as { requiredCumulative: string };
          onNeedVoucher(BigInt(requiredCumulative), received).catch(fail);
        } catch (error) {
          fail(error);
        }
      }
    },
  });
  return new Response(response.body.pipeThrough(watch), { status: response.status, statusText: response.statusText, headers: response.headers });
}
