// Each framework's example in docs/examples/ runs as written: started as its own process (tsx) against a
// local chain, it sells a photo to the tollgate client and serves its discovery document.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { validate } from "mppx/discovery";
import { http } from "viem";
import { type LocalChain, startLocalChain } from "../../scripts/localChain.js";
import { createPayingFetch } from "../../sdk/src/client/index.js";
import { privateKeyOf, skipUnderCoverage } from "../cli/helpers.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const examples: Record<string, string> = {
  express: "docs/examples/express.ts",
  hono: "docs/examples/hono.ts",
  fastify: "docs/examples/fastify.ts",
  next: "docs/examples/next-server.ts",
  "node-http": "docs/examples/node-http.ts",
};

/** Starts an example; resolves with its URL once it prints `listening on <url>`. */
async function start(file: string, env: Record<string, string>): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const child = spawn(path.join(root, "node_modules/.bin/tsx"), ["--tsconfig", "docs/examples/tsconfig.json", file], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start:\n${output}`)), 60_000);
    const read = (chunk: Buffer) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!.replace(/\/$/, ""));
      }
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${code}:\n${output}`));
    });
  });
  return { url, child, output: () => output };
}

describe("docs/examples: one runnable seller per framework", function () {
  this.timeout(180_000);
  let chain: LocalChain;
  let scratch: string;

  before(async function () {
    skipUnderCoverage(this);
    chain = await startLocalChain();
    scratch = await mkdtemp(path.join(tmpdir(), "tollgate-examples-"));
  });

  after(async () => {
    await chain?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  for (const [index, [name, file]] of Object.entries(examples).entries()) {
    it(`test_docs_example_${name}_sellsAPhotoToTheTollgateClient`, async () => {
      const seller = chain.account(1);
      const server = await start(file, {
        TOLLGATE_CHAIN: "localhost",
        TOLLGATE_RPC_URL: chain.rpcUrl,
        SELLER_PRIVATE_KEY: privateKeyOf(seller),
        TOLLGATE_SECRET: "the documentation examples' secret, 32+ bytes",
        TOLLGATE_DB: path.join(scratch, `${name}.db`),
        PORT: "0",
      });
      try {
        const account = chain.account(2 + index);
        await chain.mint(account.address, 10_000_000n);
        const pay = createPayingFetch({ account, chain: chain.chain, transport: http(chain.rpcUrl), maxDeposit: 2_000_000n });
        const before = await chain.balanceOf(account.address);
        const response = await pay(`${server.url}/photo`);
        assert.equal(response.status, 200, server.output());
        const body = (await response.json()) as { title: string; channelId: string };
        assert.equal(body.title, "Salt flats");
        assert.match(body.channelId, /^0x[0-9a-f]{64}$/);
        assert.ok(response.headers.get("payment-receipt"), "the response carries its receipt");
        // The photo cost $0.01 of the deposit; closing settles it and refunds the rest.
        const closed = await pay.close({ url: `${server.url}/photo` });
        assert.ok(closed, server.output());
        assert.equal(await chain.balanceOf(account.address), before - 10_000n, "exactly one photo paid");

        if (name !== "next") {
          const discovery = await (await fetch(`${server.url}/openapi.json`)).json();
          assert.deepEqual(validate(discovery), []);
          assert.equal((discovery as { paths: Record<string, { get: { "x-payment-info": { offers: { amount: string }[] } } }> }).paths["/photo"]!.get["x-payment-info"].offers[0]!.amount, "10000");
        }
      } finally {
        server.child.kill("SIGTERM");
      }
    });
  }
});
