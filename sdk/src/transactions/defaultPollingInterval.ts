import type { Chain } from "viem";
import { LOCAL_CHAIN_IDS } from "../deployments/localChainIds.js";

/** Milliseconds between receipt polls on a local node: its blocks come as fast as it is asked to mine them. */
const LOCAL_POLLING_INTERVAL = 100;
/** On a chain that does not state its block time (viem's chains for Base do: 2 s). */
const UNKNOWN_BLOCK_TIME_POLLING_INTERVAL = 1_000;

/**
 * How often the gate and the client poll for a receipt on `chain`: half its block time (viem's `blockTime`),
 * between 250 ms and 4 s; 100 ms on a local chain; 1 s when the block time is unknown. viem's own default
 * for a chain without `blockTime` is 4 s, longer than a Base block, which would add up to 4 s to every open.
 */
export function defaultPollingInterval(chain: Pick<Chain, "id" | "blockTime">): number {
  if (LOCAL_CHAIN_IDS.has(chain.id)) return LOCAL_POLLING_INTERVAL;
  if (chain.blockTime === undefined) return UNKNOWN_BLOCK_TIME_POLLING_INTERVAL;
  return Math.min(Math.max(Math.floor(chain.blockTime / 2), 250), 4_000);
}
