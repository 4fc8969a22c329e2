// The viem chain of a local node on loopback, for the processes that get its id and RPC URL in a config.
import { type Chain, defineChain } from "viem";

export type LoopbackChainParameters = { id: number; rpcUrl: string; name?: string };

export function loopbackChain({ id, rpcUrl, name = "Hardhat (loopback)" }: LoopbackChainParameters): Chain {
  return defineChain({ id, name, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } });
}
