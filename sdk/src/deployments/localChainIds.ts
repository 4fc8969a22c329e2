/** Chains where the mock stablecoin is deployed too and the factory may be installed with `*_setCode`. */
export const LOCAL_CHAIN_IDS: ReadonlySet<number> = new Set([31337]);
