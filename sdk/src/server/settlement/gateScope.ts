import { getAddress } from "viem";
import type { PaymentGate } from "../createPaymentGate.js";
import type { StoreScope } from "../scopedStore.js";

/**
 * The gate's scope in the form its records hold, for store queries that compare exactly: the escrow as
 * configured, token and payee as the chain returns them (checksummed).
 */
export function gateScope(gate: PaymentGate): StoreScope {
  return { chainId: gate.chainId, escrow: gate.chain.escrow, token: getAddress(gate.currency), payee: getAddress(gate.recipient) };
}
