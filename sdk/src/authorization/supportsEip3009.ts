import { type Address, type Client, zeroAddress, zeroHash } from "viem";
import { readContract } from "viem/actions";
import { eip3009Abi } from "./eip3009Abi.js";
import { isMissingFunction } from "./getTokenDomain.js";

export type SupportsEip3009Parameters = { client: Client; token: Address };

/**
 * Whether `token` takes EIP-3009 authorizations, told by its `authorizationState` view (USDC and
 * MockStablecoin have it; a plain ERC-20 does not). Network failures propagate.
 */
export async function supportsEip3009({ client, token }: SupportsEip3009Parameters): Promise<boolean> {
  try {
    await readContract(client, { address: token, abi: eip3009Abi, functionName: "authorizationState", args: [zeroAddress, zeroHash] });
    return true;
  } catch (error) {
    if (isMissingFunction(error)) return false;
    throw error;
  }
}
