import { type Address, getAddress } from "viem";
import type { PaymentGate } from "../createPaymentGate.js";
import type { ChannelRecord } from "../store/SessionStore.js";

/** The channels one gate owns in a store that other gates (chains, escrows, currencies, recipients) may share. */
export type GateScope = { chainId: number; escrow: Address; token: Address; payee: Address };

/** The gate's scope in the form its records hold: the escrow as configured, token and payee as the chain returns them. */
export function gateScope(gate: PaymentGate): GateScope {
  return { chainId: gate.chainId, escrow: gate.chain.escrow, token: getAddress(gate.currency), payee: getAddress(gate.recipient) };
}

export function isInScope(channel: ChannelRecord, scope: GateScope): boolean {
  return channel.chainId === scope.chainId && channel.escrow === scope.escrow && channel.token === scope.token && channel.payee === scope.payee;
}
