import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { PROBLEM_HEADERS, statusProblem } from "../problemResponse.js";

/** The status Node itself answers each parser error with; anything else is a 400. */
const STATUS_OF_ERROR: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

/**
 * A `clientError` listener for a `node:http` server: `server.on("clientError", clientErrorHandler)`.
 * Requests that Node's parser rejects before any handler runs (a malformed request line, header bytes,
 * an unknown method, headers too large, a broken chunked body) are answered as Node would (the same
 * status, then the connection is closed), but with an RFC 9457 problem body instead of an empty one.
 */
export function clientErrorHandler(error: Error & { code?: string; rawPacket?: Buffer }, socket: Duplex): void {
  // A response already under way on this connection cannot be followed by another one.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (error.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const status = STATUS_OF_ERROR[error.code ?? ""] ?? 400;
  const title = STATUS_CODES[status]!;
  const body = JSON.stringify(statusProblem(status, title, `The request could not be parsed (${error.code ?? error.message})`));
  // The answer to a HEAD has no body (a client would read it as the next response). The packet being
  // parsed is the only hint of the method: usually the whole request, but headers that arrive in
  // several reads (an oversized set) leave it unknown, and then the body is sent.
  const head = error.rawPacket?.subarray(0, 5).toString("latin1") === "HEAD ";
  const headers = Object.entries({ ...PROBLEM_HEADERS, "content-length": Buffer.byteLength(body), connection: "close" });
  socket.end(`HTTP/1.1 ${status} ${title}\r\n${headers.map(([name, value]) => `${name}: ${value}\r\n`).join("")}\r\n${head ? "" : body}`, () => socket.destroy());
}
