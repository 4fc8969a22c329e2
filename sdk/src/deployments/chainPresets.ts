import type { Address, Chain } from "viem";
import { base, baseSepolia, hardhat } from "viem/chains";

/** A chain Tollgate supports out of the box. */
export type ChainPreset = {
  /** viem's definition, for createPublicClient / createWalletClient. */
  chain: Chain;
  /**
   * Circle's USDC on the chain; undefined locally, where deployments/localhost.json's MockStablecoin
   * stands in. Addresses as in Circle's "USDC contract addresses" list and viem's `viem/tokens` table
   * (test/sdk/chainPresets.test.ts compares them).
   */
  usdc: Address | undefined;
};

export const chainPresets = {
  /** Hardhat's and Anvil's default chain id, 31337. */
  localhost: { chain: hardhat, usdc: undefined },
  /** Base Sepolia testnet, 84532. */
  baseSepolia: { chain: baseSepolia, usdc: "0x036CbD53842c5426634e7929541eC2318f3dCF7e" },
  /** Base mainnet, 8453. */
  base: { chain: base, usdc: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913" },
} as const satisfies Record<string, ChainPreset>;
