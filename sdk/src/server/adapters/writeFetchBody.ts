import type { ServerResponse } from "node:http";
import type { ReadableStreamDefaultReader, ReadableStreamReadResult } from "node:stream/web";

type Read = ReadableStreamReadResult<Uint8Array>;

export type WriteFetchBodyParameters = {
  /** A response whose status and headers are set but not sent. */
  outgoing: ServerResponse;
  body: ReadableStream<Uint8Array>;
};

/** What a read not answered within the event-loop turn resolves to. */
const LATER = Symbol("later");

/**
 * Writes a fetch body on a Node response. A body complete within the current event-loop turn (a string,
 * JSON or bytes `Response`) goes out with its headers and a `Content-Length` in one socket write, where
 * streaming it took three (headers, chunk, terminator) and socket writes were about a third of a busy
 * server's CPU. A body still being produced is streamed chunk by chunk as it comes, the headers first
 * when its first chunk is not there yet, so that a metered stream is never held back. A client that
 * goes away cancels the body (its producer stops); a body that fails destroys the response. Never rejects.
 */
export async function writeFetchBody({ outgoing, body }: WriteFetchBodyParameters): Promise<void> {
  const reader = body.getReader();
  // Left in place after the body is written: the response may be destroyed before it emits `close`.
  outgoing.once("close", () => {
    if (!outgoing.writableFinished) reader.cancel().catch(() => undefined);
  });
  try {
    const pending = reader.read();
    const first = await readWithinTurn(pending);
    if (first === LATER) {
      outgoing.flushHeaders();
      return await streamRest({ outgoing, reader, next: pending });
    }
    if (first.done) return endWith(outgoing, new Uint8Array(0));
    const next = reader.read();
    const second = await readWithinTurn(next);
    if (second !== LATER && second.done) return endWith(outgoing, bytesOf(first.value));
    // The headers leave with the first chunk; the second is written as soon as it is there.
    if (!outgoing.write(bytesOf(first.value))) await drained(outgoing);
    await streamRest({ outgoing, reader, next });
  } catch (error) {
    outgoing.destroy(error instanceof Error ? error : undefined);
  }
}

/** `read`, or LATER when it is not answered before the event loop's next check phase. */
async function readWithinTurn(read: Promise<Read>): Promise<Read | typeof LATER> {
  let timer: NodeJS.Immediate | undefined;
  const later = new Promise<typeof LATER>((resolve) => (timer = setImmediate(resolve, LATER)));
  try {
    return await Promise.race([read, later]);
  } finally {
    clearImmediate(timer);
  }
}

/**
 * A chunk as bytes. A fetch body yields Uint8Arrays, but a handler's own stream may yield strings, which
 * Node's streams used to write as UTF-8 (so these are too) or other views of bytes; anything else is an
 * error that destroys the response.
 */
function bytesOf(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === "string") return Buffer.from(chunk, "utf8");
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`A response body chunk must be bytes or a string, not ${typeof chunk}`);
}

/** Headers and the whole body in one write; a `Content-Length` unless the response framed itself. */
function endWith(outgoing: ServerResponse, bytes: Uint8Array): void {
  if (!outgoing.hasHeader("content-length") && !outgoing.hasHeader("transfer-encoding")) outgoing.setHeader("content-length", bytes.byteLength);
  outgoing.end(bytes);
}

/** Writes each chunk as it is read, starting with the pending `next`, waiting for `drain` when the socket is full. */
async function streamRest({ outgoing, reader, next }: { outgoing: ServerResponse; reader: ReadableStreamDefaultReader<Uint8Array>; next: Promise<Read> }): Promise<void> {
  for (let read = await next; !read.done; read = await reader.read()) {
    if (outgoing.destroyed) return;
    if (!outgoing.write(bytesOf(read.value))) await drained(outgoing);
  }
  // A body cancelled because the client went away ends here too: nothing is left to end.
  if (!outgoing.destroyed) outgoing.end();
}

/** Resolves on `drain`, or on `close` (a client gone away never drains). */
function drained(outgoing: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      outgoing.off("drain", done);
      outgoing.off("close", done);
      resolve();
    };
    outgoing.on("drain", done);
    outgoing.on("close", done);
  });
}
