// Sequential paid requests against one URL: the latency of each, then what the chain mined meanwhile.
import type { LocalChain } from "../../scripts/localChain.js";

export type MeasureRequestsParameters = {
  chain: LocalChain;
  /** A buyer's fetch: answers the 402 itself and resolves with the paid response. */
  pay: (url: string) => Promise<Response>;
  url: string;
  requests: number;
};

export type MeasureRequestsReturnType = {
  wallSeconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Transactions mined while the requests ran, anyone's. */
  transactions: number;
  /** Their gas: the sum of the mined blocks' `gasUsed`, which is the sum of the receipts'. */
  gas: bigint;
};

export async function measureRequests({ chain, pay, url, requests }: MeasureRequestsParameters): Promise<MeasureRequestsReturnType> {
  const before = await blockNumber(chain);
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
  const mined = await chainActivity({ chain, from: before, to: await blockNumber(chain) });
  latencies.sort((a, b) => a - b);
  return {
    wallSeconds: round(wallSeconds, 3),
    requestsPerSecond: Math.round(requests / wallSeconds),
    p50Ms: round(percentile(latencies, 0.5), 2),
    p99Ms: round(percentile(latencies, 0.99), 2),
    ...mined,
  };
}

export type ChainActivityParameters = { chain: LocalChain; /** Exclusive. */ from: bigint; /** Inclusive. */ to: bigint };

/** Transactions and gas of the blocks after `from` up to `to`. */
export async function chainActivity({ chain, from, to }: ChainActivityParameters): Promise<{ transactions: number; gas: bigint }> {
  let transactions = 0;
  let gas = 0n;
  for (let blockNumber = from + 1n; blockNumber <= to; blockNumber++) {
    const block = await chain.publicClient.getBlock({ blockNumber });
    transactions += block.transactions.length;
    gas += block.gasUsed;
  }
  return { transactions, gas };
}

export function blockNumber(chain: LocalChain): Promise<bigint> {
  return chain.publicClient.getBlockNumber({ cacheTime: 0 });
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}
