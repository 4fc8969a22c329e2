import { type Address, type Chain, isAddressEqual } from "viem";
import { chainPresets } from "../deployments/chainPresets.js";
import { getDeployment } from "../deployments/getDeployment.js";
import { PaymentCapError, type PaymentCap } from "../errors/PaymentCapError.js";
import type { SessionRequest } from "../session/request.js";

/** An amount in base units: one for every allowed currency, or one per currency (a currency missing from the record is refused). */
export type PerCurrency = bigint | Readonly<Record<Address, bigint>>;

export type PaymentCapsParameters = {
  chain: Chain;
  /** Escrows the client pays into; defaults to the known deployment on `chain`. */
  escrows?: readonly Address[] | undefined;
  /** Tokens the client pays in; defaults to the stablecoin of `chain`'s known deployment (USDC, or MockStablecoin locally). */
  currencies?: readonly Address[] | undefined;
  maxDeposit: PerCurrency;
  maxTotalDeposit?: PerCurrency | undefined;
  maxPricePerUnit?: PerCurrency | undefined;
  totalBudget?: PerCurrency | undefined;
  topUpAmount?: PerCurrency | undefined;
};

/** The caps of one currency, resolved. */
export type CurrencyCaps = {
  maxDeposit: bigint;
  /** Most held in deposits beyond the vouchers signed on them, over all channels not closed; defaults to one `maxDeposit`. */
  maxTotalDeposit: bigint;
  maxPricePerUnit: bigint | undefined;
  totalBudget: bigint | undefined;
  topUpAmount: bigint | undefined;
};

export type PaymentCaps = {
  /** The caps for a challenge's request, or the PaymentCapError saying why this client will not pay it. */
  check(request: SessionRequest): CurrencyCaps | PaymentCapError;
  /** The caps of a currency this client already pays in (its channels passed `check`). */
  of(token: Address): CurrencyCaps;
};

/** Resolves the paying client's allow-lists and per-currency caps, checked before anything is signed. */
export function createPaymentCaps(parameters: PaymentCapsParameters): PaymentCaps {
  const { chain } = parameters;
  const escrows = parameters.escrows ?? [getDeployment({ chainId: chain.id }).contracts.TollgateEscrow.address];
  const currencies = parameters.currencies ?? defaultCurrencies(chain.id);

  /** The caps of `token`; throws the PaymentCapError of a per-currency cap that leaves it out. */
  function resolve(token: Address): CurrencyCaps {
    const pick = (cap: PaymentCap, value: PerCurrency | undefined, required = true): bigint | undefined => {
      if (value === undefined || typeof value === "bigint") return value;
      const entry = Object.entries(value).find(([address]) => isAddressEqual(address as Address, token));
      if (entry === undefined && required) throw new PaymentCapError(cap, `No ${cap} is set for the currency ${token}`);
      return entry?.[1];
    };
    const maxDeposit = pick("maxDeposit", parameters.maxDeposit)!;
    return {
      maxDeposit,
      maxTotalDeposit: pick("maxTotalDeposit", parameters.maxTotalDeposit) ?? maxDeposit,
      maxPricePerUnit: pick("maxPricePerUnit", parameters.maxPricePerUnit),
      totalBudget: pick("totalBudget", parameters.totalBudget),
      // A setting, not a cap: a currency it leaves out gets the default top-up.
      topUpAmount: pick("maxDeposit", parameters.topUpAmount, false),
    };
  }

  return {
    check(request) {
      if (request.methodDetails.chainId !== chain.id) {
        return new PaymentCapError("chain", `The server wants payment on chain ${request.methodDetails.chainId}; this client pays on ${chain.id}`);
      }
      if (!escrows.some((escrow) => isAddressEqual(escrow, request.methodDetails.escrowContract))) {
        return new PaymentCapError("escrow", `Escrow ${request.methodDetails.escrowContract} is not one this client trusts`);
      }
      if (!currencies.some((currency) => isAddressEqual(currency, request.currency))) {
        return new PaymentCapError("currency", `The server wants payment in ${request.currency}, not a currency this client allows`);
      }
      let caps: CurrencyCaps;
      try {
        caps = resolve(request.currency);
      } catch (error) {
        if (error instanceof PaymentCapError) return error;
        throw error;
      }
      if (caps.maxPricePerUnit !== undefined && request.amount > caps.maxPricePerUnit) {
        return new PaymentCapError("maxPricePerUnit", `The price ${request.amount} per unit exceeds the cap ${caps.maxPricePerUnit}`);
      }
      // A unit the deposit cap cannot escrow can never be paid; named after the cap the buyer set.
      if (request.amount > caps.maxDeposit) {
        return new PaymentCapError("maxDeposit", `One unit costs ${request.amount}, more than the deposit cap ${caps.maxDeposit}`);
      }
      return caps;
    },
    of: resolve,
  };
}

/** The stablecoin a chain's known deployment pays in: USDC where Circle issues it, the mock locally; none elsewhere. */
function defaultCurrencies(chainId: number): Address[] {
  const preset = Object.values(chainPresets).find((candidate) => candidate.chain.id === chainId);
  if (preset?.usdc) return [preset.usdc];
  try {
    const mock = getDeployment({ chainId }).contracts.MockStablecoin?.address;
    return mock ? [mock] : [];
  } catch {
    return [];
  }
}
