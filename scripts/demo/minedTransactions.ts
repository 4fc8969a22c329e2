// Every transaction mined in a block range, with its receipt's gasUsed: what a purchase cost on-chain,
// read from the chain rather than counted by the code that sent it.
import type { Address, Hex, PublicClient } from "viem";

export type MinedTransaction = { hash: Hex; from: Address; to: Address | null; input: Hex; gasUsed: bigint };

export type MinedTransactionsParameters = { publicClient: PublicClient; fromBlock: bigint; toBlock: bigint };

export async function minedTransactions({ publicClient, fromBlock, toBlock }: MinedTransactionsParameters): Promise<MinedTransaction[]> {
  const mined: MinedTransaction[] = [];
  for (let number = fromBlock; number <= toBlock; number++) {
    const block = await publicClient.getBlock({ blockNumber: number, includeTransactions: true });
    for (const transaction of block.transactions) {
      const receipt = await publicClient.getTransactionReceipt({ hash: transaction.hash });
      mined.push({ hash: transaction.hash, from: transaction.from, to: transaction.to, input: transaction.input, gasUsed: receipt.gasUsed });
    }
  }
  return mined;
}

/** Runs `purchase` and measures it: the transactions mined meanwhile, their gas and the wall time. */
export async function measurePurchases<T>(publicClient: PublicClient, purchase: () => Promise<T>) {
  const fromBlock = (await publicClient.getBlockNumber()) + 1n;
  const started = performance.now();
  const result = await purchase();
  const wallMs = performance.now() - started;
  const transactions = await minedTransactions({ publicClient, fromBlock, toBlock: await publicClient.getBlockNumber() });
  const gas = transactions.reduce((sum, transaction) => sum + transaction.gasUsed, 0n);
  return { result, transactions, gas, wallMs };
}
