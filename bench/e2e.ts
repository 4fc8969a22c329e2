// npm run bench:e2e — 1, 100 and 1,000 paid requests on the same route, bought three ways: the session
// (tollgate's paying client), MPP `evm` charge (mppx's client) and x402 `exact` v2 (@x402/fetch); one
// fresh buyer per run, requests one after another, against the real gate (SQLite store, node:http on
// 127.0.0.1) on a local hardhat node. Per run: wall time, req/s, p50/p99, the transactions mined and
// their gas; the session's cooperative close is measured apart. Writes bench/results/e2e.json.
import { startLocalChain } from "../scripts/localChain.js";
import { createBuyer, type Method } from "./e2e/buyers.js";
import { measureFirstResponse } from "./e2e/firstResponse.js";
import { blockNumber, chainActivity, measureRequests } from "./e2e/measureRequests.js";
import { startBenchGate } from "./e2e/startBenchGate.js";
import { benchStreams } from "./e2e/streams.js";
import { writeResults } from "./e2e/writeResults.js";

const PRICE = 10_000n; // $0.01 in 6-decimal mock USDC
const SELLER = 1;
// Each one-time payment is a transferWithAuthorization the seller mines before it answers.
const ONE_TIME_RUNS = [1, 100, 1_000];
const RUNS: { method: Method; scenario: string; route: number; suggestedDeposit?: bigint; requests: number[] }[] = [
  { method: "session", scenario: "deposit covers the run", route: 0, suggestedDeposit: 1_000n * PRICE, requests: [1, 100, 1_000] },
  { method: "session", scenario: "deposit of 100 requests", route: 1, suggestedDeposit: 100n * PRICE, requests: [1, 100, 1_000] },
  { method: "charge", scenario: "mppx evm charge client", route: 0, requests: ONE_TIME_RUNS },
  { method: "x402", scenario: "@x402/fetch exact v2", route: 0, requests: ONE_TIME_RUNS },
];

const startedAt = Date.now();
const chain = await startLocalChain();
const gate = await startBenchGate({ chain, seller: SELLER, price: PRICE, suggestedDeposits: [1_000n * PRICE, 100n * PRICE] });
const rows = [];
let nextBuyer = 2;
try {
  for (const { method, scenario, route, suggestedDeposit = 0n, requests: counts } of RUNS) for (const requests of counts) {
    const url = gate.urls[route]!;
    const account = chain.account(nextBuyer++);
    const price = BigInt(requests) * PRICE;
    await chain.mint(account.address, price + suggestedDeposit);
    const funded = await chain.balanceOf(account.address);
    const buyer = await createBuyer({ chain, method, account, maxAmount: suggestedDeposit || PRICE });

    const measured = await measureRequests({ chain, pay: buyer.pay, url, requests });
    const afterRequests = await blockNumber(chain);
    const closeStart = performance.now();
    await buyer.finish(url);
    const closeSeconds = method === "session" ? Number(((performance.now() - closeStart) / 1000).toFixed(3)) : null;
    const close = await chainActivity({ chain, from: afterRequests, to: await blockNumber(chain) });

    const spent = funded - (await chain.balanceOf(account.address));
    if (spent !== price) throw new Error(`${method}, ${requests} requests: the buyer spent ${spent}, expected ${price}`);
    rows.push({
      method,
      scenario,
      requests,
      ...measured,
      gas: Number(measured.gas),
      closeSeconds,
      closeTransactions: close.transactions,
      closeGas: Number(close.gas),
      totalTransactions: measured.transactions + close.transactions,
      totalGas: Number(measured.gas + close.gas),
      spent: spent.toString(),
    });
  }
} finally {
  await gate.stop();
  await chain.stop();
}

console.table(rows.map(({ spent: _spent, ...row }) => row));
const { totalSeconds } = await writeResults({
  description:
    "Paid requests on one route of a gate offering the session, MPP evm charge (authorization) and x402 exact (SQLite store, node:http on 127.0.0.1) " +
    "on a local hardhat node (automine); one fresh buyer per run, requests sequential. Session: createPayingFetch; the first request draws the 402 and " +
    "opens the channel (approve + open), each top-up is approve + topUp, then a cooperative close (the seller's transaction, closeTransactions/closeGas). " +
    "charge: mppx 0.11's evm charge client; x402: @x402/fetch with @x402/evm's exact scheme (v2); each request signs an EIP-3009 authorization that the " +
    "seller submits (transferWithAuthorization) and waits for before answering. gas = sum of gasUsed of the blocks mined during the requests, anyone's. " +
    "Machines shared with other work: see loadAverage.",
  setup: {
    price: PRICE.toString(),
    runs: RUNS.map(({ method, scenario, suggestedDeposit, requests }) => ({ method, scenario, suggestedDeposit: suggestedDeposit?.toString(), requests })),
    store: "sqlite (file, WAL, synchronous=normal)",
  },
  startedAt,
  rows,
});
console.log(`Wrote bench/results/e2e.json (${totalSeconds} s in all)`);

// Metered streams through the prepay window (its own chain; writes bench/results/e2e-stream.json).
await benchStreams();
// The first paid response with 2 s blocks, buyer or seller paying gas (its own anvil; writes bench/results/e2e-first-response.json).
await measureFirstResponse({ firstBuyer: 2 });
