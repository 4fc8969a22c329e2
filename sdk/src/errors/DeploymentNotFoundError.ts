import type { Address } from "viem";
import { TollgateError, type TollgateErrorOptions } from "./TollgateError.js";

export type DeploymentNotFoundErrorOptions = TollgateErrorOptions & {
  /** The escrow address that was looked up and found without code; absent when no address is known for the chain. */
  escrow?: Address | undefined;
};

const FIX = "pass the address of an escrow that is deployed there (`escrows` on createPayingFetch, `escrow` on the gate), or deploy one: docs/deploy-base.md";

/** No escrow for the chain: none is known to the SDK, or the known address has no code on the connected chain. */
export class DeploymentNotFoundError extends TollgateError {
  override name = "DeploymentNotFoundError";
  readonly chainId: number;
  readonly escrow: Address | undefined;

  constructor(chainId: number, { escrow, ...options }: DeploymentNotFoundErrorOptions = {}) {
    super(
      "DEPLOYMENT_NOT_FOUND",
      escrow === undefined
        ? `No Tollgate deployment is known for chain ${chainId}: ${FIX}`
        : `No Tollgate escrow at ${escrow} on chain ${chainId}: the connected chain has no code at that address (not deployed there yet, or the RPC serves another chain). Fix: ${FIX}`,
      options,
    );
    this.chainId = chainId;
    this.escrow = escrow;
  }
}
