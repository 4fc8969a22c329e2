import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { InvalidValueError } from "../../errors/InvalidValueError.js";
import { badRequestResponse } from "../problemResponse.js";
import { writeFetchBody } from "./writeFetchBody.js";

/** A fetch-style handler: what Hono, Next.js route handlers, Bun and Workers take natively. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

export type NodeHandler = (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void) => void;

/** RFC 3986 `host [":" port]` (no userinfo, path, query or fragment); `new URL` then checks the host itself. */
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::[0-9]*)?$/;
/** `http(s)://authority` and the rest of an absolute-form target. */
const ABSOLUTE_FORM = /^https?:\/\/([^/?#]*)(.*)$/is;

/**
 * Serves a fetch-style handler from `node:http` (or Express, whose `req`/`res` are the same objects):
 * the request becomes a `Request` whose `signal` aborts when the client disconnects, and the `Response`
 * is written by writeResponse: a body complete at once in one socket write with its headers (socket
 * writes are a third of a server's CPU), a streamed body as it is produced, so metered streams reach
 * the client chunk by chunk. A request no `Request` can represent (a malformed Host or target, a
 * method fetch refuses) is answered `400 Bad Request` with a problem body, without calling the handler
 * (nor Express's `next`).
 */
export function toNodeHandler(handler: FetchHandler): NodeHandler {
  return (incoming, outgoing, next) => {
    const controller = new AbortController();
    outgoing.on("close", () => {
      if (!outgoing.writableFinished) controller.abort();
    });
    drainOnFinish(incoming, outgoing);
    void (async () => {
      let request: Request;
      try {
        // Behind a body parser (Express's `express.json()`) the stream is consumed: the handler gets what it parsed.
        const parsed = incoming.readableEnded ? { body: renderParsedBody((incoming as { body?: unknown }).body) } : {};
        request = toRequest(incoming, { signal: controller.signal, ...parsed });
      } catch (error) {
        // Only the client's bytes went into it: its error, never the handler's (nor Express's `next`).
        return writeResponse(incoming, outgoing, badRequestResponse((error as InvalidValueError).message));
      }
      await writeResponse(incoming, outgoing, await handler(request));
    })().catch((error: unknown) => {
      if (next) return next(error);
      if (!outgoing.headersSent) {
        outgoing.statusCode = 500;
        outgoing.end();
      } else {
        outgoing.destroy(error instanceof Error ? error : undefined);
      }
    });
  };
}

/**
 * A response sent without reading the whole request body (every 402 does) must still drain it: the
 * body stream paused on backpressure would otherwise stall the next request on the connection.
 */
export function drainOnFinish(incoming: IncomingMessage, outgoing: ServerResponse): void {
  outgoing.on("finish", () => {
    if (!incoming.complete) {
      incoming.removeAllListeners("data");
      incoming.resume();
    }
  });
}

/**
 * Writes a fetch `Response` on a Node response (no body for HEAD). A body complete at once goes out
 * with the headers in one socket write, a streamed one chunk by chunk as produced (see writeFetchBody).
 */
export async function writeResponse(incoming: IncomingMessage, outgoing: ServerResponse, response: Response): Promise<void> {
  outgoing.statusCode = response.status;
  if (response.statusText) outgoing.statusMessage = response.statusText;
  for (const [name, value] of response.headers) {
    if (name !== "set-cookie") outgoing.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) outgoing.setHeader("set-cookie", cookies);
  if (response.body === null || incoming.method === "HEAD") {
    // A HEAD response's body is never sent: cancel it, so whatever produces it stops.
    await response.body?.cancel().catch(() => undefined);
    outgoing.end();
    return;
  }
  await writeFetchBody({ outgoing, body: response.body });
}

/**
 * A body a framework's parser already read, as a request body: a raw parser's bytes or text as they
 * are, anything else (`express.json()`'s object) as JSON; null when no parser ran.
 */
export function renderParsedBody(parsed: unknown): string | Uint8Array | null {
  if (parsed === undefined || parsed === null) return null;
  if (typeof parsed === "string" || parsed instanceof Uint8Array) return parsed;
  return JSON.stringify(parsed);
}

/**
 * The `Request` for an incoming message; an `InvalidValueError` when the client sent one it cannot be.
 * Its body is the message's stream, or `body` when given (a framework's body parser read the stream).
 */
export function toRequest(incoming: IncomingMessage, { signal, body }: { signal?: AbortSignal; body?: string | Uint8Array | null } = {}): Request {
  const url = requestUrl(incoming);
  try {
    const headers = new Headers();
    for (const [name, value] of Object.entries(incoming.headers)) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
    }
    const hasBody = incoming.method !== "GET" && incoming.method !== "HEAD";
    return new Request(url, {
      method: incoming.method ?? "GET",
      headers,
      ...(signal ? { signal } : {}),
      ...(hasBody ? { body: body === undefined ? (Readable.toWeb(incoming) as unknown as ReadableStream<Uint8Array>) : body, duplex: "half" } : {}),
    } as RequestInit);
  } catch (cause) {
    // What the fetch API refuses (TRACE, a host `new URL` rejects, a header value) came from the client.
    throw new InvalidValueError("request", `The request cannot be served: ${(cause as Error).message}`, { cause });
  }
}

function requestUrl(incoming: IncomingMessage): string {
  // Express rewrites `url` inside routers; `originalUrl` is what the client asked for.
  const target = (incoming as IncomingMessage & { originalUrl?: string }).originalUrl ?? incoming.url ?? "/";
  // The absolute form (RFC 9112 §3.2.2) carries its own authority, which takes precedence over Host;
  // the scheme stays the connection's (a client on plain HTTP does not get to claim https).
  const absolute = ABSOLUTE_FORM.exec(target);
  const path = absolute ? `/${absolute[2]!.replace(/^\//, "")}` : target;
  if (!path.startsWith("/")) throw new InvalidValueError("request", "The request target is not a path");
  const host = absolute ? absolute[1]! : (incoming.headers.host ?? (incoming.httpVersion === "1.1" ? undefined : "localhost"));
  // RFC 9112 §3.2: an HTTP/1.1 request without Host is refused (Node does so itself unless `requireHostHeader: false`).
  if (host === undefined) throw new InvalidValueError("request", "The request has no Host header");
  if (!AUTHORITY.test(host)) throw new InvalidValueError("request", "The request's host is not a valid host[:port]");
  const protocol = "encrypted" in incoming.socket && incoming.socket.encrypted ? "https" : "http";
  return `${protocol}://${host}${path}`;
}
