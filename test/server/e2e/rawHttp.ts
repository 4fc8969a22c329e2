// A raw-socket HTTP/1.1 client for requests no well-behaved client sends (malformed request lines,
// header bytes, Host values): writes the bytes as given and reads one response, or notes a clean close.
import { connect } from "node:net";

export type RawResponse = {
  /** Undefined when the server closed the connection without answering. */
  status?: number;
  headers: Record<string, string>;
  body: string;
};

export type RawRequestOptions = {
  /** Milliseconds without an answer after which the client half-closes (the request may be incomplete). */
  idle?: number;
  /** Milliseconds after which a connection that neither answered nor closed counts as hung (rejects). */
  timeout?: number;
  /** The response to a HEAD has no body whatever its headers say. */
  head?: boolean;
};

/** Sends `bytes` on a new connection to 127.0.0.1:`port` and resolves with the first response or a close. */
export function rawRequest(port: number, bytes: string | Uint8Array, { idle = 1_000, timeout = 10_000, head = false }: RawRequestOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (result: RawResponse | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(idleTimer);
      clearTimeout(hangTimer);
      socket.destroy();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const idleTimer = setTimeout(() => socket.end(), idle);
    const hangTimer = setTimeout(() => finish(new Error(`no answer and no close within ${timeout} ms`)), timeout);
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const response = parseResponse(received, head);
      if (response) finish(response);
    });
    socket.on("close", () => finish(parseResponse(received, head, true) ?? { headers: {}, body: received.toString("latin1") }));
    socket.write(bytes);
  });
}

/** One complete response at the start of `data`, or undefined while it is incomplete. */
function parseResponse(data: Buffer, head: boolean, closed = false): RawResponse | undefined {
  const end = data.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const [statusLine, ...lines] = data.subarray(0, end).toString("latin1").split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine!)?.[1];
  if (status === undefined) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = data.subarray(end + 4);
  const code = Number(status);
  if (head || code === 204 || code === 304 || (code >= 100 && code < 200)) return { status: code, headers, body: "" };
  if (headers["content-length"] !== undefined) {
    const length = Number(headers["content-length"]);
    return rest.length >= length ? { status: code, headers, body: rest.subarray(0, length).toString("utf8") } : undefined;
  }
  if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
    let body = Buffer.alloc(0);
    let position = 0;
    for (;;) {
      const lineEnd = rest.indexOf("\r\n", position);
      if (lineEnd < 0) return undefined;
      const size = Number.parseInt(rest.subarray(position, lineEnd).toString("latin1"), 16);
      if (size === 0) return rest.indexOf("\r\n", lineEnd + 2) < 0 ? undefined : { status: code, headers, body: body.toString("utf8") };
      if (rest.length < lineEnd + 2 + size + 2) return undefined;
      body = Buffer.concat([body, rest.subarray(lineEnd + 2, lineEnd + 2 + size)]);
      position = lineEnd + 2 + size + 2;
    }
  }
  // Delimited by the close.
  return closed ? { status: code, headers, body: rest.toString("utf8") } : undefined;
}
