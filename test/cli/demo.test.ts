// tollgate demo --serve runs the repository's demo (npm run demo -- --serve), whose chain the other
// commands can then talk to. However the demo ends (SIGTERM to the CLI or to its process group, SIGKILL
// of the CLI or of the demo itself) its hardhat node ends too, and its temporary files are removed
// whenever the demo itself gets to run its shutdown.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createPublicClient, http } from "viem";
import { cliJson, skipUnderCoverage } from "./helpers.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
/** Generous: the machine is shared; the assertion is that the chain stops, not how fast. */
const STOP_BOUND_MS = 60_000;

type Served = { url: string; page: string; rpcUrl: string; chainId: number; escrow: string; currency: string; recipient: string; database: string };
type Running = { child: ChildProcess; served: Served; exited: Promise<number | null>; stderr: () => string };

/**
 * Starts `args` under this Node with tsx as a loader (or `command` as given) and waits for the demo's
 * JSON line.
 */
async function startServed(args: string[], { detached = false, command = [process.execPath, "--import", "tsx"] } = {}): Promise<Running> {
  // tsx as a loader rather than its wrapper process, whose own signal relay would stand between
  // SIGTERM and the CLI (the built bin runs under node directly, as here).
  const child = spawn(command[0]!, [...command.slice(1), ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
    stdio: ["ignore", "pipe", "pipe"],
    detached,
  });
  running.push(child);
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const served = await new Promise<Served>((resolve, reject) => {
    let stdout = "";
    child.stdout!.on("data", (chunk) => {
      stdout += chunk;
      const line = stdout.split("\n").find((candidate) => candidate.startsWith("{"));
      if (line !== undefined && stdout.includes("\n")) resolve(JSON.parse(line) as Served);
    });
    void exited.then((code) => reject(new Error(`demo exited ${code} before serving: ${stderr}\n${stdout}`)));
  });
  return { child, served, exited, stderr: () => stderr };
}

const running: ChildProcess[] = [];

/** Polls until `condition` holds, failing after STOP_BOUND_MS. */
async function eventually(what: string, condition: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + STOP_BOUND_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`${what} within ${STOP_BOUND_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function answers(rpcUrl: string): Promise<boolean> {
  try {
    await createPublicClient({ transport: http(rpcUrl, { retryCount: 0, timeout: 2_000 }) }).getChainId();
    return true;
  } catch {
    return false;
  }
}

describe("tollgate CLI: demo", function () {
  this.timeout(180_000);

  // The demo compiles (plain artifacts) and deploys them: not during a coverage run.
  before(function () {
    skipUnderCoverage(this);
  });

  after(() => {
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });

  it("serves the demo, whose chain the CLI can read, until SIGTERM stops all of it", async () => {
    const { child, served, exited, stderr } = await startServed(["sdk/src/cli/main.ts", "demo", "--serve"]);
    assert.equal(served.chainId, 31337);

    const sellers = await cliJson<{ escrow: string; channels: unknown[] }>(["channels", "--payee", served.recipient, "--rpc-url", served.rpcUrl], {});
    assert.equal(sellers.escrow, served.escrow, "the bundled local deployment is where the demo deployed");
    assert.deepEqual(sellers.channels, []);

    child.kill("SIGTERM");
    // The demo exits 0; npm reports its shell as ended by the forwarded signal: 128 + 15.
    assert.ok([0, 143].includes((await exited)!), stderr());
    await eventually("the demo's chain stops", async () => !(await answers(served.rpcUrl)));
  });

  it("test_demo_database_printedAndRemovedOnExit", async () => {
    const { child, served, exited } = await startServed(["sdk/src/cli/main.ts", "demo", "--serve"]);
    assert.equal(path.basename(served.database), "gallery.db");
    assert.ok(existsSync(served.database), "the database is where the demo says");
    const client = await cliJson<{ source: string }>(["channels", "--db", served.database], {});
    assert.equal(client.source, "store", "the seller's store, readable by the CLI");
    child.kill("SIGINT");
    await exited;
    await eventually("the demo's temporary directory is removed", () => !existsSync(path.dirname(served.database)));
  });

  it("test_demo_chainDiesWithItsParent_whenTheCliIsKilled", async () => {
    const { child, served } = await startServed(["sdk/src/cli/main.ts", "demo", "--serve"]);
    assert.ok(await answers(served.rpcUrl));
    child.kill("SIGKILL");
    await eventually("the chain stops answering after the CLI is SIGKILLed", async () => !(await answers(served.rpcUrl)));
    // The demo itself outlived the CLI long enough to shut down in order.
    await eventually("the demo's temporary directory is removed", () => !existsSync(path.dirname(served.database)));
  });

  it("test_demo_chainDiesWithItsParent_whenItsProcessGroupGetsSigterm", async () => {
    // As a user runs it: npm run tollgate (npm, sh, tsx's wrapper, the CLI), all in one process group.
    const npm = process.env.npm_execpath;
    const command = npm !== undefined && npm.endsWith(".js") ? [process.execPath, npm] : ["npm"];
    const { child, served } = await startServed(["run", "-s", "tollgate", "--", "demo", "--serve"], { detached: true, command });
    process.kill(-child.pid!, "SIGTERM");
    await eventually("the chain stops answering after SIGTERM to the demo's process group", async () => !(await answers(served.rpcUrl)));
  });

  it("test_demo_chainDiesWithItsParent_whenTheDemoItselfIsKilled", async () => {
    const { child, served } = await startServed(["scripts/demo.ts", "--serve"]);
    child.kill("SIGKILL");
    await eventually("the chain stops answering after the demo is SIGKILLed", async () => !(await answers(served.rpcUrl)));
  });
});
