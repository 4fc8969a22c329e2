import type {
  Abi,
  Address,
  ContractFunctionArgs,
  ContractFunctionName,
  ContractFunctionReturnType,
  SimulateContractParameters,
  WriteContractParameters,
} from "viem";
import { simulateContract } from "viem/actions";
import { TransactionSubmissionError } from "../errors/TransactionSubmissionError.js";
import { isRevert, revertedError } from "./revertedError.js";
import { submitContractTransaction } from "./submitContractTransaction.js";
import type { TransactionOptions, TransactionResult } from "./TransactionOptions.js";
import { waitForTransactionOutcome } from "./waitForTransactionOutcome.js";

type Writable = "nonpayable" | "payable";

export type SendContractTransactionParameters<
  abi extends Abi,
  functionName extends ContractFunctionName<abi, Writable>,
> = TransactionOptions & {
  address: Address;
  abi: abi;
  functionName: functionName;
  args: ContractFunctionArgs<abi, Writable, functionName>;
};

export type SendContractTransactionReturnType<
  abi extends Abi,
  functionName extends ContractFunctionName<abi, Writable>,
> = TransactionResult & {
  /** The function's return value, from the simulation that preceded sending. */
  result: ContractFunctionReturnType<abi, Writable, functionName>;
};

/**
 * Simulates, sends and waits for one contract call. A revert in simulation throws a final
 * ContractRevertedError before anything is sent (no gas spent); after sending, the outcome is
 * classified by waitForTransactionOutcome.
 */
export async function sendContractTransaction<
  const abi extends Abi,
  functionName extends ContractFunctionName<abi, Writable>,
>({
  client,
  publicClient = client,
  timeout,
  confirmations,
  address,
  abi,
  functionName,
  args,
}: SendContractTransactionParameters<abi, functionName>): Promise<SendContractTransactionReturnType<abi, functionName>> {
  // viem's generics cannot follow abi/functionName through this wrapper; callers are typed above.
  const simulation = { account: client.account, address, abi, functionName, args } as unknown as SimulateContractParameters;
  let request: WriteContractParameters;
  let result: unknown;
  try {
    ({ request, result } = (await simulateContract(publicClient, simulation)) as unknown as {
      request: WriteContractParameters;
      result: unknown;
    });
  } catch (error) {
    if (isRevert(error)) throw revertedError({ error });
    throw new TransactionSubmissionError("Could not simulate the transaction", { cause: error });
  }
  const hash = await submitContractTransaction({ client, request });
  const receipt = await waitForTransactionOutcome({ client: publicClient, hash, timeout, confirmations });
  return { hash, receipt, result: result as ContractFunctionReturnType<abi, Writable, functionName> };
}
