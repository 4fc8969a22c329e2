import type { Hex, WriteContractParameters } from "viem";
import { writeContract } from "viem/actions";
import { TransactionSubmissionError } from "../errors/TransactionSubmissionError.js";
import { isRevert, revertedError } from "./revertedError.js";
import type { TransactionOptions } from "./TransactionOptions.js";

export type SubmitContractTransactionParameters = {
  client: TransactionOptions["client"];
  /** What writeContract sends: a simulation's request, or a call with its own `gas` and `nonce`. */
  request: WriteContractParameters;
};

/**
 * Signs and sends one contract call, waiting for nothing. A revert the wallet or node sees while
 * preparing it (estimating gas) throws ContractRevertedError; any other failure TransactionSubmissionError.
 */
export async function submitContractTransaction({ client, request }: SubmitContractTransactionParameters): Promise<Hex> {
  try {
    return await writeContract(client, request);
  } catch (error) {
    // The state can change between simulation and sending; a wallet that estimates gas then sees the revert.
    if (isRevert(error)) throw revertedError({ error });
    throw new TransactionSubmissionError("Could not send the transaction", { cause: error });
  }
}
