import type { Address, Client } from "viem";
import { getChainId, getCode } from "viem/actions";
import { DeploymentNotFoundError } from "../errors/DeploymentNotFoundError.js";
import { getDeployment } from "./getDeployment.js";

export type AssertEscrowDeployedParameters = {
  /** A client on the chain to check. */
  client: Client;
  /** The escrow to look for; defaults to the SDK's known address for the chain the RPC serves. */
  escrow?: Address | undefined;
};

export type AssertEscrowDeployedReturnType = { chainId: number; escrow: Address };

/**
 * Checks that the escrow has code on the chain the client is connected to. A known address is only
 * where the escrow lands when deployed (CREATE2, the same on every chain), not proof that it was: this
 * throws DeploymentNotFoundError, naming the address and the fix, when nothing is there.
 */
export async function assertEscrowDeployed({ client, escrow }: AssertEscrowDeployedParameters): Promise<AssertEscrowDeployedReturnType> {
  // The chain the RPC serves, not the one the client was configured with: that is where the code must be.
  const chainId = await getChainId(client);
  const address = escrow ?? getDeployment({ chainId }).contracts.TollgateEscrow.address;
  const code = await getCode(client, { address });
  if (code === undefined || code === "0x") throw new DeploymentNotFoundError(chainId, { escrow: address });
  return { chainId, escrow: address };
}
