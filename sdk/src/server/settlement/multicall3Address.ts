import type { Address, Chain } from "viem";
import { ConfigurationError } from "../../errors/ConfigurationError.js";
import type { GateChain } from "../chain.js";

/** The Multicall3 contract batches go through: the one given, else the chain definition's `contracts.multicall3`. */
export function multicall3Address(chain: GateChain, given?: Address): Address {
  const address = given ?? (chain.walletClient.chain as Chain | undefined)?.contracts?.multicall3?.address;
  if (address === undefined) {
    throw new ConfigurationError("multicall3", "Deferred settlement batches through Multicall3: this chain's definition has no `contracts.multicall3`, pass `multicall3`");
  }
  return address;
}
