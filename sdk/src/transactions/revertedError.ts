import {
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  ExecutionRevertedError,
  type Hex,
  isHex,
  RawContractError,
  type TransactionReceipt,
} from "viem";
import { ContractRevertedError } from "../errors/ContractRevertedError.js";
import { revertAbi } from "./revertAbi.js";

/** The raw revert data anywhere in a viem error chain: decoded errors keep it in `raw`, RPC errors in `data`. */
function revertData(error: BaseError): Hex | undefined {
  let data: Hex | undefined;
  error.walk((cause) => {
    const candidate = cause instanceof ContractFunctionRevertedError ? cause.raw : (cause as { data?: unknown }).data;
    const hex = typeof candidate === "object" && candidate !== null ? (candidate as { data?: unknown }).data : candidate;
    if (typeof hex === "string" && isHex(hex)) data = hex;
    return data !== undefined;
  });
  return data;
}

/** Whether a viem error says the call reverted, as opposed to the node or the network failing. */
export function isRevert(error: unknown): error is BaseError {
  return (
    error instanceof BaseError &&
    error.walk(
      (cause) =>
        cause instanceof ContractFunctionRevertedError ||
        cause instanceof RawContractError ||
        cause instanceof ExecutionRevertedError,
    ) !== null
  );
}

export type RevertedErrorParameters = {
  /** The error a call or simulation threw, or undefined when a replay of a reverted transaction did not revert. */
  error: unknown;
  hash?: Hex | undefined;
  receipt?: TransactionReceipt | undefined;
};

/** Builds a ContractRevertedError named after the escrow's (or token's) custom error when the revert data decodes. */
export function revertedError({ error, hash, receipt }: RevertedErrorParameters): ContractRevertedError {
  const data = error instanceof BaseError ? revertData(error) : undefined;
  let decoded: { errorName: string; args: readonly unknown[] | undefined } | undefined;
  if (data !== undefined && data !== "0x") {
    try {
      decoded = decodeErrorResult({ abi: revertAbi, data });
    } catch {
      // A selector outside the known ABIs: keep the raw data, leave the name unknown.
    }
  }
  return new ContractRevertedError({ errorName: decoded?.errorName, args: decoded?.args, data, hash, receipt, cause: error });
}
