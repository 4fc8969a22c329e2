import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";

/** A fetch-style handler: what Hono, Next.js route handlers, Bun and Workers take natively. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

export type NodeHandler = (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void) => void;

/**
 * Serves a fetch-style handler from `node:http` (or Express, whose `req`/`res` are the same objects):
 * the request becomes a `Request` whose `signal` aborts when the client disconnects, and the `Response`
 * body is streamed back as it is produced, so metered streams reach the client chunk by chunk.
 */
export function toNodeHandler(handler: FetchHandler): NodeHandler {
  return (incoming, outgoing, next) => {
    const controller = new AbortController();
    outgoing.on("close", () => {
      if (!outgoing.writableFinished) controller.abort();
    });
    // A response sent without reading the whole request body (every 402 does) must still drain it:
    // the body stream paused on backpressure would otherwise stall the next request on the connection.
    outgoing.on("finish", () => {
      if (!incoming.complete) {
        incoming.removeAllListeners("data");
        incoming.resume();
      }
    });
    void (async () => {
      const response = await handler(toRequest(incoming, controller.signal));
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
      outgoing.flushHeaders();
      const body = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>);
      body.on("error", (error) => outgoing.destroy(error));
      body.pipe(outgoing);
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

function toRequest(incoming: IncomingMessage, signal: AbortSignal): Request {
  const host = incoming.headers.host ?? "localhost";
  const protocol = "encrypted" in incoming.socket && incoming.socket.encrypted ? "https" : "http";
  // Express rewrites `url` inside routers; `originalUrl` is what the client asked for.
  const path = (incoming as IncomingMessage & { originalUrl?: string }).originalUrl ?? incoming.url ?? "/";
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  const hasBody = incoming.method !== "GET" && incoming.method !== "HEAD";
  return new Request(`${protocol}://${host}${path}`, {
    method: incoming.method ?? "GET",
    headers,
    signal,
    ...(hasBody ? { body: Readable.toWeb(incoming) as unknown as ReadableStream<Uint8Array>, duplex: "half" } : {}),
  } as RequestInit);
}
