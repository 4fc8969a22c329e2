// npm run bench:e2e — wall time and on-chain transactions for 1, 100 and 1,000 paid requests through the
// real paying client and the real gate (SQLite store, node:http on 127.0.0.1) on a local chain; one fresh
// buyer per run, requests one after another, then a cooperative close. Two deposits: one that covers the
// whole run (one open), and the gate's default of 100 requests (a top-up every 100 requests).
// Writes bench/results/e2e.json.
import { mkdtempSync, rmSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { join } from "node:path";
import { http } from "viem";
import { startLocalChain, type LocalChain } from "../scripts/localChain.js";
import { createPayingFetch } from "../sdk/src/client/index.js";
import { createPaymentGate } from "../sdk/src/server/index.js";
import { createSqliteStore } from "../sdk/src/server/sqlite.js";
import { toNodeHandler } from "../sdk/src/server/node.js";

const RUNS = [1, 100, 1_000];
const PRICE = 10_000n; // $0.01 in 6-decimal mock USDC
const SCENARIOS = [
  { scenario: "deposit covers the run", suggestedDeposit: 1_000n * PRICE },
  { scenario: "deposit of 100 requests", suggestedDeposit: 100n * PRICE },
];
const SELLER = 1;

type Row = {
  scenario: string;
  requests: number;
  /** The requests, from the first 402 to the last paid response: includes the approve and the open. */
  wallSeconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Transactions mined while the requests ran: approve + open, and approve + topUp per top-up. */
  transactions: number;
  closeSeconds: number;
  /** Transactions of the cooperative close (the seller's close). */
  closeTransactions: number;
  totalTransactions: number;
  spent: string;
};

async function transactionsBetween(chain: LocalChain, from: bigint, to: bigint): Promise<number> {
  let count = 0;
  for (let block = from + 1n; block <= to; block++) count += await chain.publicClient.getBlockTransactionCount({ blockNumber: block });
  return count;
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

const started = Date.now();
const chain = await startLocalChain();
const directory = mkdtempSync(join(os.tmpdir(), "tollgate-bench-e2e-"));
const store = createSqliteStore({ path: join(directory, "gate.db") });
const gate = createPaymentGate({
  chain: chain.chain,
  transport: http(chain.rpcUrl),
  escrow: chain.escrow,
  currency: chain.token,
  account: chain.account(SELLER),
  store,
  secret: crypto.randomUUID() + crypto.randomUUID(),
});
const routes = SCENARIOS.map(({ suggestedDeposit }, index) => ({
  path: `/api/paid/${index}`,
  route: gate.session({ amount: PRICE, unitType: "request", suggestedDeposit }),
}));
const server = createServer(
  toNodeHandler((request) => {
    const { route } = routes.find(({ path }) => new URL(request.url).pathname === path)!;
    return route.handle(request, () => Response.json({ ok: true }));
  }),
);
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const rows: Row[] = [];
let nextBuyer = 2;
try {
  for (const [scenarioIndex, { scenario, suggestedDeposit }] of SCENARIOS.entries()) for (const requests of RUNS) {
    const url = `${origin}${routes[scenarioIndex]!.path}`;
    const account = chain.account(nextBuyer++);
    await chain.mint(account.address, BigInt(requests) * PRICE + suggestedDeposit);
    const pay = createPayingFetch({ account, chain: chain.chain, transport: http(chain.rpcUrl), maxDeposit: suggestedDeposit, escrows: [chain.escrow] });

    const before = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    const latencies: number[] = [];
    const runStart = performance.now();
    for (let request = 0; request < requests; request++) {
      const start = performance.now();
      const response = await pay(url);
      if (response.status !== 200) throw new Error(`request ${request} failed: ${response.status} ${await response.text()}`);
      await response.arrayBuffer();
      latencies.push(performance.now() - start);
    }
    const wallSeconds = (performance.now() - runStart) / 1000;
    const afterRequests = await chain.publicClient.getBlockNumber({ cacheTime: 0 });

    const closeStart = performance.now();
    const closed = await pay.close({ url });
    const closeSeconds = (performance.now() - closeStart) / 1000;
    const afterClose = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    if (closed.settled !== BigInt(requests) * PRICE) throw new Error(`settled ${closed.settled}, expected ${BigInt(requests) * PRICE}`);

    const transactions = await transactionsBetween(chain, before, afterRequests);
    const closeTransactions = await transactionsBetween(chain, afterRequests, afterClose);
    latencies.sort((a, b) => a - b);
    rows.push({
      scenario,
      requests,
      wallSeconds: Number(wallSeconds.toFixed(3)),
      requestsPerSecond: Math.round(requests / wallSeconds),
      p50Ms: Number(percentile(latencies, 0.5).toFixed(2)),
      p99Ms: Number(percentile(latencies, 0.99).toFixed(2)),
      transactions,
      closeSeconds: Number(closeSeconds.toFixed(3)),
      closeTransactions,
      totalTransactions: transactions + closeTransactions,
      spent: closed.settled.toString(),
    });
  }
} finally {
  server.closeAllConnections();
  server.close();
  await store.close();
  await chain.stop();
  rmSync(directory, { recursive: true, force: true });
}

console.table(rows.map(({ spent: _spent, ...row }) => row));

const packageVersion = async (name: string) => (JSON.parse(await readFile(new URL(`../node_modules/${name}/package.json`, import.meta.url), "utf8")) as { version: string }).version;
const cpus = os.cpus();
const result = {
  measuredAt: new Date().toISOString(),
  command: "npm run bench:e2e",
  description:
    "Paid requests through createPayingFetch and the session gate (SQLite store, node:http on 127.0.0.1) on a local hardhat node (automine); " +
    "one fresh buyer per run, requests sequential; the first request draws the 402 and opens the channel (approve + open), each top-up is approve + topUp; " +
    "then a cooperative close (the seller's transaction). Machines shared with other work: see loadAverage.",
  machine: {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverage: os.loadavg().map((load) => Number(load.toFixed(2))),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
  },
  libraries: { viem: await packageVersion("viem"), hardhat: await packageVersion("hardhat") },
  setup: {
    price: PRICE.toString(),
    scenarios: SCENARIOS.map(({ scenario, suggestedDeposit }) => ({ scenario, suggestedDeposit: suggestedDeposit.toString() })),
    store: "sqlite (file, WAL, synchronous=normal)",
  },
  totalSeconds: Number(((Date.now() - started) / 1000).toFixed(1)),
  rows,
};
await mkdir(new URL("./results/", import.meta.url), { recursive: true });
await writeFile(new URL("./results/e2e.json", import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
console.log(`Wrote bench/results/e2e.json (${result.totalSeconds} s in all)`);
