import { getTokenDomain } from "../../authorization/getTokenDomain.js";
import type { TokenDomain } from "../../authorization/TokenDomain.js";
import type { GateContext } from "../core/GateMethod.js";

export type TokenDomainOnce = {
  /** Reads the domain (once; again after a failure, e.g. an RPC that could not be reached). */
  ready(): Promise<TokenDomain>;
  /** The domain once read, else undefined. */
  readonly domain: TokenDomain | undefined;
};

// One read per gate, shared by its methods (charge, x402, the default methods' probe).
const reads = new WeakMap<GateContext, TokenDomainOnce>();

/** The gate currency's EIP-712 domain, read from the chain once: the per-request methods verify and offer under it. */
export function readTokenDomainOnce(context: GateContext): TokenDomainOnce {
  const read = reads.get(context) ?? createRead(context);
  reads.set(context, read);
  return read;
}

function createRead(context: GateContext): TokenDomainOnce {
  let domain: TokenDomain | undefined;
  let loading: Promise<TokenDomain> | undefined;
  return {
    ready: () =>
      (loading ??= getTokenDomain({ client: context.chain.publicClient, token: context.currency }).then(
        (read) => (domain = read),
        (error) => {
          loading = undefined;
          throw error;
        },
      )),
    get domain() {
      return domain;
    },
  };
}
