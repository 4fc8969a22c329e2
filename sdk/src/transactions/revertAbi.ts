import type { Abi } from "viem";
import { mockStablecoinAbi } from "../generated/mockStablecoinAbi.js";
import { tollgateEscrowAbi } from "../generated/tollgateEscrowAbi.js";

/**
 * Every custom error an escrow call can revert with: the escrow's own and, because SafeERC20 and the
 * escrow pass a token's revert data through, the OpenZeppelin ERC-20 and EIP-3009 errors of the
 * local token (USDC reverts with strings, which decode as `Error(string)` anyway).
 */
export const revertAbi: Abi = [...tollgateEscrowAbi, ...mockStablecoinAbi].filter((item) => item.type === "error");
