// What toNodeHandler writes on the socket: a body complete at once leaves with its headers in one
// write (each write is a syscall; three per response were a third of the server's CPU), while a
// streamed body is never held back: headers before a late first chunk, each chunk as it is produced.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { toNodeHandler, type FetchHandler } from "../../sdk/src/server/node.js";

type Harness = { port: number; server: Server; writes: () => number };

/** A node:http server on 127.0.0.1 serving `handler`, counting the writes on its sockets. */
async function serve(handler: FetchHandler): Promise<Harness> {
  let writes = 0;
  const server = createServer(toNodeHandler(handler));
  server.on("connection", (socket: Socket) => {
    // Every socket write, single or gathered, goes through one of these two.
    const hooks = socket as unknown as Record<"_write" | "_writev", (...args: unknown[]) => unknown>;
    for (const name of ["_write", "_writev"] as const) {
      const original = hooks[name];
      hooks[name] = (...args: unknown[]) => {
        writes++;
        return original.apply(socket, args);
      };
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as { port: number }).port, server, writes: () => writes };
}

/** A server whose every response streams a new body from `source`. */
function serveStream(source: UnderlyingDefaultSource<Uint8Array>, init?: ResponseInit): Promise<Harness> {
  return serve(() => new Response(new ReadableStream<Uint8Array>(source), init));
}

const bytes = (text: string) => new TextEncoder().encode(text);

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Sends one request on a new connection (`Connection: close`) and resolves with all the bytes the server sent. */
function exchange(port: number, method: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
    socket.on("error", reject);
    socket.on("close", () => resolve(text));
    socket.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  });
}

function headersOf(raw: string): Record<string, string> {
  const lines = raw.slice(0, raw.indexOf("\r\n\r\n")).split("\r\n").slice(1);
  return Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
}

function within<T>(promise: Promise<T>, what: string, ms = 2_000): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A promise and its resolve. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe("server: what the node adapter writes on the socket", function () {
  this.timeout(20_000);

  it("test_nodeAdapter_bufferedBody_isOneSocketWriteWithContentLength", async function () {
    const bodies: Record<string, () => Response> = {
      "/text": () => new Response("some text"),
      "/json": () => Response.json({ item: "ok" }),
      "/bytes": () => new Response(new Uint8Array([1, 2, 3, 4, 5])),
      "/own-length": () => new Response("12345", { headers: { "content-length": "5" } }),
      "/empty": () => new Response(""),
    };
    const { port, server, writes } = await serve((request) => bodies[new URL(request.url).pathname]!());
    try {
      for (const [path, body] of Object.entries(bodies)) {
        const before = writes();
        const raw = await exchange(port, "GET", path);
        const expected = Buffer.from(await body().arrayBuffer()).toString("latin1");
        assert.equal(writes() - before, 1, `${path}: socket writes`);
        const headers = headersOf(raw);
        assert.equal(headers["content-length"], String(expected.length), path);
        assert.equal(headers["transfer-encoding"], undefined, path);
        assert.equal(raw.slice(raw.indexOf("\r\n\r\n") + 4), expected, path);
      }
    } finally {
      await close(server);
    }
  });

  it("test_nodeAdapter_bodyOfStringChunks_isSentAsUtf8", async function () {
    // A hand-made stream of strings is not a valid fetch body, but the adapter sent one before it wrote
    // bodies itself (as UTF-8), and a handler's sloppy body must not reset the connection.
    const text = "héllo ✓";
    const strings = (chunks: string[], late: boolean) => () =>
      new Response(
        new ReadableStream({
          async start(controller) {
            for (const chunk of chunks) {
              if (late) await new Promise((resolve) => setTimeout(resolve, 20));
              controller.enqueue(chunk as unknown as Uint8Array);
            }
            controller.close();
          },
        }),
      );
    const bodies: Record<string, () => Response> = { "/at-once": strings([text], false), "/streamed": strings(["héllo", " ✓"], true) };
    const { port, server } = await serve((request) => bodies[new URL(request.url).pathname]!());
    try {
      for (const path of Object.keys(bodies)) {
        const response = await fetch(`http://127.0.0.1:${port}${path}`);
        assert.equal(response.status, 200, path);
        assert.equal(await response.text(), text, path);
      }
      assert.equal((await fetch(`http://127.0.0.1:${port}/at-once`)).headers.get("content-length"), String(Buffer.byteLength(text)));
    } finally {
      await close(server);
    }
  });

  it("test_nodeAdapter_streamedBody_sendsChunkOneBeforeChunkTwoIsProduced", async function () {
    const second = gate();
    const { port, server } = await serveStream({
      async start(controller) {
        controller.enqueue(bytes("one"));
        await second.opened;
        controller.enqueue(bytes("two"));
        controller.close();
      },
    });
    try {
      const response = await within(fetch(`http://127.0.0.1:${port}/`), "headers");
      assert.equal(response.headers.get("transfer-encoding"), "chunked");
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      assert.equal(decoder.decode((await within(reader.read(), "chunk one")).value), "one");
      second.open();
      assert.equal(decoder.decode((await within(reader.read(), "chunk two")).value), "two");
      assert.equal((await reader.read()).done, true);
    } finally {
      await close(server);
    }
  });

  it("test_nodeAdapter_streamedBodyWithALateFirstChunk_sendsHeadersFirst", async function () {
    const first = gate();
    const { port, server } = await serveStream(
      {
        async start(controller) {
          await first.opened;
          controller.enqueue(bytes("late"));
          controller.close();
        },
      },
      { headers: { "content-type": "text/event-stream" } },
    );
    try {
      // The first chunk is produced only once the client has the headers.
      const response = await within(fetch(`http://127.0.0.1:${port}/`), "headers");
      assert.equal(response.headers.get("content-type"), "text/event-stream");
      first.open();
      assert.equal(await within(response.text(), "body"), "late");
    } finally {
      await close(server);
    }
  });

  it("test_nodeAdapter_clientDisconnectMidStream_cancelsTheProducer", async function () {
    const cancelled = gate();
    const { port, server } = await serveStream({
      start: (controller) => controller.enqueue(bytes("first")),
      cancel: () => cancelled.open(),
    });
    try {
      const socket = connect(port, "127.0.0.1");
      socket.on("error", () => undefined);
      const received = new Promise<string>((resolve) => socket.once("data", (chunk: Buffer) => resolve(chunk.toString("latin1"))));
      socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      assert.match(await within(received, "first chunk"), /first/);
      socket.destroy();
      await within(cancelled.opened, "the producer's cancel");
    } finally {
      await close(server);
    }
  });

  it("test_nodeAdapter_headOfABufferedRoute_sendsNoBody", async function () {
    let cancelled = false;
    const { port, server } = await serveStream({
      start: (controller) => controller.enqueue(bytes("not for HEAD")),
      cancel: () => void (cancelled = true),
    });
    try {
      const raw = await exchange(port, "HEAD", "/");
      assert.match(raw, /^HTTP\/1\.1 200 /);
      assert.ok(raw.endsWith("\r\n\r\n"), JSON.stringify(raw));
      assert.equal(cancelled, true);
    } finally {
      await close(server);
    }
  });

  it("test_nodeAdapter_largeStreamAvailableAtOnce_arrivesWholeThroughBackpressure", async function () {
    const chunk = new Uint8Array(64 * 1024).fill(120);
    const { port, server } = await serveStream({
      start(controller) {
        for (let i = 0; i < 64; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    try {
      const body = await within(fetch(`http://127.0.0.1:${port}/`).then((response) => response.arrayBuffer()), "body", 10_000);
      assert.equal(body.byteLength, 64 * chunk.length);
    } finally {
      await close(server);
    }
  });

  it("test_nodeAdapter_bodyThatFails_destroysTheResponse", async function () {
    const { port, server } = await serveStream({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        controller.error(new Error("producer failed"));
      },
    });
    try {
      const outcome = await within(
        fetch(`http://127.0.0.1:${port}/`).then(
          (response) => response.text().then(() => "complete", () => "aborted"),
          () => "aborted",
        ),
        "outcome",
      );
      assert.equal(outcome, "aborted");
    } finally {
      await close(server);
    }
  });
});
