import { type Abi, type Address, type ContractFunctionArgs, type ContractFunctionName, erc20Abi } from "viem";
import { simulateBlocks } from "viem/actions";
import { revertedError } from "./revertedError.js";
import type { TransactionOptions } from "./TransactionOptions.js";

type Writable = "nonpayable" | "payable";

export type SimulateWithApprovalParameters<abi extends Abi, functionName extends ContractFunctionName<abi, Writable>> = TransactionOptions & {
  /** The approve: `spender` may move `amount` of `token`. */
  token: Address;
  spender: Address;
  amount: bigint;
  /** The call that spends the allowance. */
  address: Address;
  abi: abi;
  functionName: functionName;
  args: ContractFunctionArgs<abi, Writable, functionName>;
};

export type SimulateWithApprovalReturnType = {
  /** Gas limits to send each with: the call's cannot be estimated while the approve is not mined. */
  approveGas: bigint;
  gas: bigint;
  /** The call's return value. */
  result: unknown;
};

/** A limit above what a call used: gas refunds and the 63/64 rule make the use an underestimate of the need. */
const withHeadroom = (used: bigint) => used + used / 2n;

/**
 * Runs approve then the call in one simulated block (`eth_simulateV1`), as they will be mined when sent
 * back to back. Either reverting throws ContractRevertedError before anything is sent. Resolves with null
 * when the node cannot simulate blocks (Hardhat's node cannot): the pair then goes one after the other.
 */
export async function simulateWithApproval<const abi extends Abi, functionName extends ContractFunctionName<abi, Writable>>({
  client,
  publicClient = client,
  token,
  spender,
  amount,
  address,
  abi,
  functionName,
  args,
}: SimulateWithApprovalParameters<abi, functionName>): Promise<SimulateWithApprovalReturnType | null> {
  const account = client.account.address;
  let calls;
  try {
    [{ calls }] = (await simulateBlocks(publicClient, {
      blocks: [
        {
          calls: [
            { account, to: token, abi: erc20Abi, functionName: "approve", args: [spender, amount] },
            // viem's generics cannot follow abi/functionName through this wrapper; callers are typed above.
            { account, to: address, abi, functionName, args } as never,
          ],
        },
      ],
    })) as unknown as [{ calls: { status: "success" | "failure"; result: unknown; gasUsed: bigint; maxUsedGas?: bigint; error?: Error }[] }];
  } catch {
    return null;
  }
  const [approve, call] = calls;
  for (const result of [approve!, call!]) if (result.status !== "success") throw revertedError({ error: result.error });
  return { approveGas: withHeadroom(approve!.maxUsedGas ?? approve!.gasUsed), gas: withHeadroom(call!.maxUsedGas ?? call!.gasUsed), result: call!.result };
}
