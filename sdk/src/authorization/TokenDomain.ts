import type { Address } from "viem";

/** A token's EIP-712 domain, under which its EIP-3009 authorizations are signed. */
export type TokenDomain = {
  name: string;
  version: string;
  chainId: number;
  /** The token contract. */
  verifyingContract: Address;
};
