import { DeploymentNotFoundError } from "../errors/DeploymentNotFoundError.js";
import { deployments } from "../generated/deployments.js";
import type { Deployment } from "./Deployment.js";

export type GetDeploymentParameters = { chainId: number };

export type GetDeploymentReturnType = Deployment;

/** The escrow deployment bundled for a chain (from deployments/*.json at build time); throws DeploymentNotFoundError if none. */
export function getDeployment({ chainId }: GetDeploymentParameters): GetDeploymentReturnType {
  const deployment = deployments.find((candidate) => candidate.chainId === chainId);
  if (deployment === undefined) throw new DeploymentNotFoundError(chainId);
  return deployment;
}
