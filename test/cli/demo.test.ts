// tollgate demo --serve runs the repository's demo (npm run demo -- --serve), whose chain the other
// commands can then talk to, and SIGTERM to the CLI stops the whole demo, chain included.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createPublicClient, http } from "viem";
import { cliJson, skipUnderCoverage } from "./helpers.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

type Served = { url: string; page: string; rpcUrl: string; chainId: number; escrow: string; currency: string; recipient: string };

describe("tollgate CLI: demo", function () {
  this.timeout(90_000);
  let child: ChildProcess | undefined;

  // The demo compiles (plain artifacts) and deploys them: not during a coverage run.
  before(function () {
    skipUnderCoverage(this);
  });

  after(() => {
    if (child?.exitCode === null) child.kill("SIGKILL");
  });

  it("serves the demo, whose chain the CLI can read, until SIGTERM stops all of it", async () => {
    // tsx as a loader rather than its wrapper process, whose own signal relay would stand between
    // SIGTERM and the CLI (the built bin runs under node directly, as here).
    child = spawn(process.execPath, ["--import", "tsx", "sdk/src/cli/main.ts", "demo", "--serve"], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
    const served = await new Promise<Served>((resolve, reject) => {
      let stdout = "";
      child!.stdout!.on("data", (chunk) => {
        stdout += chunk;
        const line = stdout.split("\n").find((candidate) => candidate.startsWith("{"));
        if (line !== undefined && stdout.includes("\n")) resolve(JSON.parse(line) as Served);
      });
      void exited.then((code) => reject(new Error(`demo exited ${code} before serving: ${stderr}\n${stdout}`)));
    });
    assert.equal(served.chainId, 31337);

    const sellers = await cliJson<{ escrow: string; channels: unknown[] }>(["channels", "--payee", served.recipient, "--rpc-url", served.rpcUrl], {});
    assert.equal(sellers.escrow, served.escrow, "the bundled local deployment is where the demo deployed");
    assert.deepEqual(sellers.channels, []);

    child.kill("SIGTERM");
    // The demo exits 0; npm reports its shell as ended by the forwarded signal: 128 + 15.
    assert.ok([0, 143].includes((await exited)!), stderr);
    const client = createPublicClient({ transport: http(served.rpcUrl, { retryCount: 0, timeout: 2_000 }) });
    await assert.rejects(client.getChainId(), "the demo's chain is stopped");
  });
});
