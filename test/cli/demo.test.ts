// tollgate demo --serve runs the repository's demo (npm run demo -- --serve), whose chain the other
// commands can then talk to. However the demo ends (SIGTERM to the CLI or to its process group, SIGKILL
// of the CLI or of the demo itself) its hardhat node ends too, and its temporary files are removed
// whenever the demo itself gets to run its shutdown.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createPublicClient, erc20Abi, http, parseEventLogs } from "viem";
import { buyWithX402 } from "../../scripts/demo/buyWithX402.js";
import { PHOTO_PRICE } from "../../scripts/demo/gallery.js";
import { measurePurchases } from "../../scripts/demo/minedTransactions.js";
import { BUYER, startDemo } from "../../scripts/demo/startDemo.js";
import { cliJson, skipUnderCoverage } from "./helpers.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
/** Generous: the machine is shared; the assertion is that the chain stops, not how fast. */
const STOP_BOUND_MS = 60_000;

type Offer = Record<string, unknown>;
type Served = {
  url: string;
  page: string;
  rpcUrl: string;
  chainId: number;
  escrow: string;
  currency: string;
  recipient: string;
  database: string;
  offers: { status: number; session?: Offer; charge?: Offer; x402v2?: Offer; x402v1?: Offer };
};
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

/** Runs the whole demo (`npm run demo`'s script) to its end; its stdout. */
async function runDemo(): Promise<string> {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/demo.ts"], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  assert.equal(code, 0, `${stderr}\n${stdout}`);
  return stdout;
}

/** The transaction lines (`name by the who, N gas  0xhash`) listed under the heading that starts with `heading`. */
function transactionsUnder(output: string, heading: string): { name: string; by: string; gas: bigint; hash: string }[] {
  const section = output.slice(output.indexOf(heading)).split("\n\n")[0]!.split("\n").slice(1);
  return section.map((line) => {
    const match = /^\s+(\w+)\s+by the (\w+), ([\d,]+) gas\s+(0x[0-9a-f]{64})$/.exec(line);
    assert.ok(match, `a transaction line: ${line}`);
    return { name: match[1]!, by: match[2]!, gas: BigInt(match[3]!.replaceAll(",", "")), hash: match[4]! };
  });
}

const sum = (values: bigint[]) => values.reduce((total, value) => total + value, 0n);

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

  it("test_demo_serve_printsEveryOfferOfThePhotoRoute_readFromAnUnpaid402", async () => {
    const { child, served } = await startServed(["scripts/demo.ts", "--serve"]);
    const { offers } = served;
    assert.equal(offers.status, 402);
    const price = PHOTO_PRICE.toString();
    assert.equal(offers.session?.amount, price);
    assert.equal(offers.session?.recipient, served.recipient);
    assert.equal((offers.session?.methodDetails as Offer).escrowContract, served.escrow);
    assert.equal(offers.charge?.amount, price);
    assert.equal(offers.charge?.currency, served.currency);
    assert.equal(offers.x402v2?.scheme, "exact");
    assert.equal(offers.x402v2?.network, `eip155:${served.chainId}`);
    assert.equal(offers.x402v2?.amount, price);
    assert.equal(offers.x402v2?.payTo, served.recipient);
    assert.equal(offers.x402v2?.asset, served.currency);
    assert.equal(offers.x402v1?.maxAmountRequired, price);
    assert.equal(offers.x402v1?.resource, served.url);
    // The EIP-712 domain offered is the token's own, read from the chain.
    const client = createPublicClient({ transport: http(served.rpcUrl) });
    const name = await client.readContract({ address: served.currency as `0x${string}`, abi: erc20Abi, functionName: "name" });
    assert.equal((offers.x402v2?.extra as Offer).name, name);
    child.kill("SIGKILL");
  });

  it("test_demo_x402Purchases_fiveTransfersMinedAndTheSellerPaidFiveTimesThePrice", async () => {
    const demo = await startDemo({ fund: [BUYER] });
    try {
      const { chain, seller, photoUrl } = demo;
      const buyer = chain.account(BUYER);
      const before = { seller: await chain.balanceOf(seller.address), buyer: await chain.balanceOf(buyer.address) };
      const measured = await measurePurchases(chain.publicClient, () =>
        buyWithX402({ account: buyer, chainId: chain.chain.id, currency: chain.token, maxPrice: PHOTO_PRICE, url: photoUrl, count: 5 }),
      );
      assert.equal(measured.result.length, 5);
      for (const { photo } of measured.result) assert.ok(!("channelId" in photo), "a one-time payment has no channel");
      // Exactly the five settlements were mined meanwhile, each moving the price from the buyer to the seller.
      assert.deepEqual(
        measured.transactions.map(({ hash }) => hash).sort(),
        measured.result.map(({ transaction }) => transaction).sort(),
      );
      let gas = 0n;
      for (const { hash } of measured.transactions) {
        const receipt = await chain.publicClient.getTransactionReceipt({ hash });
        assert.equal(receipt.status, "success");
        gas += receipt.gasUsed;
        const transfers = parseEventLogs({ abi: erc20Abi, logs: receipt.logs, eventName: "Transfer" });
        assert.deepEqual(transfers.map(({ args }) => args), [{ from: buyer.address, to: seller.address, value: PHOTO_PRICE }]);
      }
      assert.equal(measured.gas, gas);
      assert.equal(await chain.balanceOf(seller.address), before.seller + 5n * PHOTO_PRICE);
      assert.equal(await chain.balanceOf(buyer.address), before.buyer - 5n * PHOTO_PRICE);
    } finally {
      await demo.stop();
    }
  });

  it("test_demo_run_printsSessionAndX402SideBySide_consistentWithItsTransactions", async () => {
    const output = await runDemo();
    const session = transactionsUnder(output, "• On-chain transactions of the whole session");
    const x402 = transactionsUnder(output, "• On-chain transactions of the x402 purchases");
    assert.deepEqual(session.map(({ name }) => name), ["approve", "open", "close"]);
    assert.equal(x402.length, 5, "one transfer mined per x402 photo");
    for (const transaction of x402) assert.deepEqual([transaction.name, transaction.by], ["transferWithAuthorization", "seller"]);
    const settled = [...output.matchAll(/settled in (0x[0-9a-f]{64})/g)].map((match) => match[1]);
    assert.deepEqual(settled, x402.map(({ hash }) => hash), "each photo's PAYMENT-RESPONSE names a mined transfer");

    const row = (label: string) => new RegExp(`^  ${label}\\s+(\\S+(?: s)?)\\s+(\\S+(?: s)?)$`, "m").exec(output)?.slice(1);
    assert.deepEqual(row("transactions"), [String(session.length), "5"]);
    assert.deepEqual(row("gas"), [sum(session.map(({ gas }) => gas)).toLocaleString("en-US"), sum(x402.map(({ gas }) => gas)).toLocaleString("en-US")]);
    for (const time of row("wall time")!) assert.ok(Number.parseFloat(time) > 0, time);
    assert.match(output, /session \+\$0\.05\) → \$[\d.]+ \(x402 \+\$0\.05\)/, "the seller got 5 × $0.01 from each side");
  });
});
