import { type Address, type Chain, isAddressEqual } from "viem";
import { chainPresets } from "../deployments/chainPresets.js";
import { getDeployment } from "../deployments/getDeployment.js";
import { PaymentCapError, type PaymentCap } from "../errors/PaymentCapError.js";

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

/** What an offer of any method asks: a price (per unit or per request) in a currency on a chain, into an escrow for a session. */
export type OfferTerms = { chainId: number; currency: Address; amount: bigint; escrow?: Address };

export type PaymentCaps = {
  /** The caps for an offer's terms, or the PaymentCapError saying why this client will not pay it. */
  check(terms: OfferTerms): CurrencyCaps | PaymentCapError;
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
    check(terms) {
      if (terms.chainId !== chain.id) {
        return new PaymentCapError("chain", `The server wants payment on chain ${terms.chainId}; this client pays on ${chain.id}`);
      }
      if (terms.escrow !== undefined && !escrows.some((escrow) => isAddressEqual(escrow, terms.escrow!))) {
        return new PaymentCapError("escrow", `Escrow ${terms.escrow} is not one this client trusts`);
      }
      if (!currencies.some((currency) => isAddressEqual(currency, terms.currency))) {
        return new PaymentCapError("currency", `The server wants payment in ${terms.currency}, not a currency this client allows`);
      }
      let caps: CurrencyCaps;
      try {
        caps = resolve(terms.currency);
      } catch (error) {
        if (error instanceof PaymentCapError) return error;
        throw error;
      }
      if (caps.maxPricePerUnit !== undefined && terms.amount > caps.maxPricePerUnit) {
        return new PaymentCapError("maxPricePerUnit", `The price ${terms.amount} per unit exceeds the cap ${caps.maxPricePerUnit}`);
      }
      // A unit the deposit cap cannot escrow can never be paid, and no one-time payment moves more than one
      // deposit may: named after the cap the buyer set (the one price bound every client has).
      if (terms.amount > caps.maxDeposit) {
        return new PaymentCapError("maxDeposit", `One unit costs ${terms.amount}, more than the deposit cap ${caps.maxDeposit}`);
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
