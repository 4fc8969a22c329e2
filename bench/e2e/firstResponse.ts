// Time to the first paid response on anvil with Base's 2-second blocks (`--block-time 2`): a fresh buyer's
// first request, from the unpaid request through the 402 and the channel's funding to the paid 200.
// Buyer pays gas (approve + open) and seller pays gas (the gate relays an EIP-3009 open), each the way
// tollgate did it before (approve, wait, open, wait; receipts polled every 4 s, viem's default for a chain
// without `blockTime`) and after (approve and open back to back; receipts polled at the chain's block
// time). Writes bench/results/e2e-first-response.json.
import { custom, http, type Transport } from "viem";
import { startLocalChain, type LocalChain } from "../../scripts/localChain.js";
import { createPayingFetch } from "../../sdk/src/client/index.js";
import { startBenchGate } from "./startBenchGate.js";
import { writeResults } from "./writeResults.js";

const PRICE = 10_000n;
const DEPOSIT = 100n * PRICE;
const SELLER = 1;
const RUNS = 7;
const BLOCK_TIME_SECONDS = 2;
/** Issue 12's target for both rows. */
const TARGET_SECONDS = 2.2;
/** viem's polling interval for a chain that does not state its block time: what the gate and client used before. */
const VIEM_DEFAULT_POLLING = 4_000;

type Variant = { gas: "buyer" | "seller"; behaviour: "before" | "after" };
const VARIANTS: Variant[] = [
  { gas: "buyer", behaviour: "before" },
  { gas: "buyer", behaviour: "after" },
  { gas: "seller", behaviour: "before" },
  { gas: "seller", behaviour: "after" },
];

/** A transport to a node without eth_simulateV1 (as Hardhat's): the client then approves, waits, opens, waits, as before. */
function withoutBlockSimulation(chain: LocalChain): Transport {
  const node = http(chain.rpcUrl)({ chain: chain.chain, retryCount: 0 });
  return custom({
    request: (args: { method: string }) => (args.method === "eth_simulateV1" ? Promise.reject(new Error("Method eth_simulateV1 is not supported")) : node.request(args as never)),
  });
}

function startGate(chain: LocalChain, { gas, behaviour }: Variant) {
  return startBenchGate({
    chain,
    seller: SELLER,
    price: PRICE,
    suggestedDeposits: [DEPOSIT],
    gate: { feePayer: gas === "seller", ...(behaviour === "before" ? { pollingInterval: VIEM_DEFAULT_POLLING } : {}) },
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const seconds = (value: number) => Number(value.toFixed(3));

export type MeasureFirstResponseParameters = {
  /** Test account index of the first buyer; one fresh account per run. */
  firstBuyer: number;
};

/** Runs every variant RUNS times on its own anvil, prints the rows beside the target and writes them. */
export async function measureFirstResponse({ firstBuyer }: MeasureFirstResponseParameters) {
  const startedAt = Date.now();
  const chain = await startLocalChain({ blockTime: BLOCK_TIME_SECONDS });
  const rows = [];
  let nextBuyer = firstBuyer;
  try {
    for (const variant of VARIANTS) {
      const gate = await startGate(chain, variant);
      const url = gate.urls[0]!;
      const samples: number[] = [];
      const blocksWaited: number[] = [];
      try {
        for (let run = 0; run < RUNS; run++) {
          const account = chain.account(nextBuyer++);
          await chain.mint(account.address, DEPOSIT);
          const pay = createPayingFetch({
            account,
            chain: chain.chain,
            transport: variant.behaviour === "before" ? withoutBlockSimulation(chain) : http(chain.rpcUrl),
            maxDeposit: DEPOSIT,
            escrows: [chain.escrow],
            ...(variant.behaviour === "before" ? { pollingInterval: VIEM_DEFAULT_POLLING } : {}),
          });
          // The mint's receipt has just been seen, right after a block: a buyer's request comes at any moment of the interval.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * BLOCK_TIME_SECONDS * 1000));
          const head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
          const start = performance.now();
          const response = await pay(url);
          samples.push((performance.now() - start) / 1000);
          blocksWaited.push(Number((await chain.publicClient.getBlockNumber({ cacheTime: 0 })) - head));
          if (response.status !== 200) throw new Error(`${variant.gas} pays gas, ${variant.behaviour}: ${response.status} ${await response.text()}`);
        }
      } finally {
        await gate.stop();
      }
      rows.push({
        gasPaidBy: variant.gas,
        behaviour: variant.behaviour,
        runs: RUNS,
        medianSeconds: seconds(median(samples)),
        minSeconds: seconds(Math.min(...samples)),
        maxSeconds: seconds(Math.max(...samples)),
        targetSeconds: TARGET_SECONDS,
        meetsTarget: median(samples) <= TARGET_SECONDS,
        medianBlocksMined: median(blocksWaited),
        samples: samples.map(seconds),
      });
    }
  } finally {
    await chain.stop();
  }
  console.table(rows.map(({ samples: _samples, ...row }) => row));
  await writeResults({
    file: "e2e-first-response.json",
    description:
      "Time to the first paid response: a fresh buyer's first request to a session route (unpaid request, 402, funding, paid request, 200) on anvil " +
      "--block-time 2 (Base's block time), gate with a SQLite store on node:http 127.0.0.1; each run starts at a uniformly random moment of the block " +
      "interval. Buyer pays gas: approve + open from the buyer; seller pays " +
      "gas (feePayer: true): the buyer signs an EIP-3009 authorization the gate submits (openWithAuthorization). before: approve, wait for its receipt, " +
      "open, wait (the client's node answers no eth_simulateV1, which is what sends the pair one after the other now), receipts polled every 4 s (viem's " +
      "default for a chain without blockTime) by the client and the gate. after: approve and open back to back in one block, receipts polled at the " +
      "default pollingInterval (100 ms on a local chain, half the block time on Base). medianBlocksMined: blocks mined during the request. Machines " +
      "shared with other work: see loadAverage.",
    setup: { price: PRICE.toString(), deposit: DEPOSIT.toString(), runs: RUNS, blockTimeSeconds: BLOCK_TIME_SECONDS, node: "anvil 1.7.1 --block-time 2 --prune-history" },
    startedAt,
    rows,
  });
  console.log(`Wrote bench/results/e2e-first-response.json (target: first paid response ≤ ${TARGET_SECONDS} s, buyer pays gas and seller pays gas)`);
}
