import type { ContractFunctionReturnType } from "viem";
import type { tollgateEscrowAbi } from "../generated/tollgateEscrowAbi.js";

/** A channel's on-chain state, as the escrow's `getChannel` returns it (amounts in base units). */
export type Channel = ContractFunctionReturnType<typeof tollgateEscrowAbi, "view", "getChannel">;
