import type { GateContext, GateMethod, GateMethodFactory } from "../core/GateMethod.js";
import { charge } from "./charge/charge.js";
import { readTokenDomainOnce } from "./readTokenDomainOnce.js";
import { supportsTransferAuthorization } from "./supportsTransferAuthorization.js";
import { x402 } from "./x402/x402.js";

export type CurrencyMethodsParameters = {
  /** The currency's decimals as configured, for the charge offer's `methodDetails.decimals`. */
  decimals?: number;
};

/**
 * The methods a gate offers beside the session when it is given no `methods`: every one the currency
 * supports. `charge` and `x402` need EIP-3009; `ready()` probes the token once
 * (supportsTransferAuthorization) and, for a token without it, both stay silent: no offer, no claim.
 */
export function currencyMethods({ decimals }: CurrencyMethodsParameters = {}): GateMethodFactory[] {
  const probes = new WeakMap<GateContext, Probe>();
  const probe = (context: GateContext) => probes.get(context) ?? probes.set(context, createProbe(context)).get(context)!;
  return [charge({ decimals }), x402()].map((factory) => (context: GateContext) => whenSupported(factory(context), probe(context)));
}

type Probe = { ready(): Promise<boolean>; readonly supported: boolean };

function createProbe(context: GateContext): Probe {
  let supported = false;
  let probing: Promise<boolean> | undefined;
  return {
    ready: () =>
      (probing ??= supportsTransferAuthorization({ client: context.chain.publicClient, token: context.currency, readDomain: readTokenDomainOnce(context).ready }).then(
        (answer) => (supported = answer),
        (error: unknown) => {
          // An RPC that could not be reached says nothing about the token: ask again next time.
          probing = undefined;
          throw error;
        },
      )),
    get supported() {
      return supported;
    },
  };
}

function whenSupported(method: GateMethod, probe: Probe): GateMethod {
  return {
    name: method.name,
    offer: (route, request) => (probe.supported ? method.offer(route, request) : undefined),
    claims: (input) => probe.supported && method.claims(input),
    authorize: (input) => method.authorize(input),
    async ready() {
      if (await probe.ready()) await method.ready?.();
    },
  };
}
