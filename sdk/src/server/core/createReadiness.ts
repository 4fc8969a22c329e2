import type { Chain } from "viem";
import { ConfigurationError } from "../../errors/ConfigurationError.js";
import type { GateChain } from "../chain.js";
import { checkGateChain } from "../checkGateChain.js";
import type { GateMethod } from "./GateMethod.js";

export type ReadinessParameters = {
  chain: GateChain;
  expected: Chain;
  currency: GateChain["escrow"];
  /** The currency's decimals as configured (checked against the token), if given. */
  decimals: number | undefined;
  /** The gate's methods: each one's own start-up reads (`GateMethod.ready`) run after the gate's checks. */
  methods: GateMethod[];
};

/**
 * The gate's start-up checks: `ready()` checks the configuration against the chain once (an RPC that
 * could not be reached is asked again next time) and then prices every route that waited for the
 * currency's decimals.
 */
export function createReadiness({ chain, expected, currency, decimals: configured, methods }: ReadinessParameters) {
  // The currency's decimals: the option, else what ready() read from the token.
  let decimals = configured;
  // Routes whose prices ready() checks (a decimal string needs the decimals).
  const pending = new Set<() => void>();
  let readiness: Promise<void> | undefined;
  const ready = (): Promise<void> =>
    (readiness ??= checkGateChain({ chain, expected, currency, decimals: configured })
      .then(async (read) => {
        for (const method of methods) await method.ready?.();
        decimals = read;
        for (const price of pending) price();
      })
      .catch((error) => {
        // A configuration error stays one; an RPC that could not be reached is asked again next time.
        if (!(error instanceof ConfigurationError)) readiness = undefined;
        throw error;
      }));
  return {
    ready,
    decimals: () => decimals,
    /** Has `ready()` price a route (and refuse a malformed decimal price) once the decimals are known. */
    whenReady: (price: () => void) => void pending.add(price),
  };
}

export type Readiness = ReturnType<typeof createReadiness>;
