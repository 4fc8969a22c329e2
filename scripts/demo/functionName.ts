// Names the escrow or token function a transaction calls, from its input: how the demo labels transactions.
import { decodeFunctionData, type Hex } from "viem";
import { mockStablecoinAbi } from "../../sdk/src/generated/mockStablecoinAbi.js";
import { tollgateEscrowAbi } from "../../sdk/src/generated/tollgateEscrowAbi.js";

/** The function's name, or undefined when the input calls neither contract. */
export function functionName(input: Hex): string | undefined {
  for (const abi of [tollgateEscrowAbi, mockStablecoinAbi]) {
    try {
      return decodeFunctionData({ abi, data: input }).functionName;
    } catch {
      // not this contract's
    }
  }
  return undefined;
}
