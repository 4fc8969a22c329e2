// Where a contract already on-chain was created: `tollgate deploy` reports the block and transaction of a
// deployment it did not make (or made in a run whose record is gone), as it does for one it just sent.
import { type Address, getContractAddress, type Hex, type PublicClient, slice } from "viem";
import { CREATE2_FACTORY, DEPLOYMENT_SALT } from "../deployments/deployTollgate.js";

export type Creation = { blockNumber: number; transactionHash: Hex | null };

/**
 * The first block where `address` has code (a binary search over historical state), and the factory
 * call in that block whose salt and init code give `address`. Undefined when the node keeps no history
 * (a pruned node refuses `eth_getCode` at old blocks).
 */
export async function findCreation({ publicClient, address }: { publicClient: PublicClient; address: Address }): Promise<Creation | undefined> {
  const hasCode = async (blockNumber: bigint) => ((await publicClient.getCode({ address, blockNumber })) ?? "0x") !== "0x";
  let high: bigint;
  try {
    high = await publicClient.getBlockNumber();
    if (!(await hasCode(high))) return undefined;
    let low = 0n;
    while (low < high) {
      const middle = (low + high) / 2n;
      if (await hasCode(middle)) high = middle;
      else low = middle + 1n;
    }
  } catch {
    return undefined;
  }
  const block = await publicClient.getBlock({ blockNumber: high, includeTransactions: true });
  const transaction = block.transactions.find(
    (candidate) =>
      candidate.to?.toLowerCase() === CREATE2_FACTORY &&
      candidate.input.length > 66 &&
      slice(candidate.input, 0, 32) === DEPLOYMENT_SALT &&
      getContractAddress({ opcode: "CREATE2", from: CREATE2_FACTORY, salt: DEPLOYMENT_SALT, bytecode: slice(candidate.input, 32) }).toLowerCase() ===
        address.toLowerCase(),
  );
  return { blockNumber: Number(high), transactionHash: transaction?.hash ?? null };
}
