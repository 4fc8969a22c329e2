import type { ServerResponse } from "node:http";
import type { PaidRequest } from "../createPaymentGate.js";

type Held = Pick<PaidRequest, "finish" | "release" | "problem">;

/**
 * Holds everything a Node framework handler writes on `outgoing` (status, headers, body) until the
 * charge is finished for the status it answers with, so that the charge is durable before the first
 * byte leaves; the receipt headers are then added and the held calls replayed in order. A response
 * closed before anything was written (the client went away) releases the charge. If finishing fails,
 * the held output is dropped and the gate's problem answer (503 when the store failed) is sent instead.
 */
export function holdResponse(outgoing: ServerResponse, held: Held, onError: (error: unknown) => void): void {
  const originals = { writeHead: outgoing.writeHead, write: outgoing.write, end: outgoing.end, flushHeaders: outgoing.flushHeaders };
  let calls: (() => void)[] | undefined;
  const restore = () => Object.assign(outgoing, originals);

  const hold = (status: number) => {
    calls = [];
    held.finish(status).then(
      (receipt) => {
        restore();
        for (const [name, value] of Object.entries(receipt)) outgoing.setHeader(name, value);
        for (const call of calls!) call();
      },
      (error: unknown) => {
        restore();
        const problem = held.problem(error);
        if (!problem) return onError(error);
        for (const name of outgoing.getHeaderNames()) outgoing.removeHeader(name);
        outgoing.statusCode = problem.status;
        problem.headers.forEach((value, name) => outgoing.setHeader(name, value));
        void problem.text().then((body) => outgoing.end(body));
      },
    );
  };
  // Every way Node starts a response (write and end call writeHead through `_implicitHeader`) comes here.
  const intercept = <K extends keyof typeof originals>(name: K, status: (args: unknown[]) => number, result: () => unknown) => {
    (outgoing as unknown as Record<K, (...args: unknown[]) => unknown>)[name] = (...args: unknown[]) => {
      if (calls === undefined) hold(status(args));
      calls!.push(() => (originals[name] as (...args: unknown[]) => unknown).apply(outgoing, args));
      return result();
    };
  };
  intercept("writeHead", (args) => args[0] as number, () => outgoing);
  intercept("write", () => outgoing.statusCode, () => true);
  intercept("end", () => outgoing.statusCode, () => outgoing);
  intercept("flushHeaders", () => outgoing.statusCode, () => undefined);

  outgoing.on("close", () => {
    if (calls !== undefined) return;
    restore();
    held.release().catch(onError);
  });
}
