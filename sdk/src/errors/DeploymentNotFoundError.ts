import { TollgateError } from "./TollgateError.js";

/** No escrow deployment is bundled for the requested chain. */
export class DeploymentNotFoundError extends TollgateError {
  override name = "DeploymentNotFoundError";
  readonly chainId: number;

  constructor(chainId: number) {
    super("DEPLOYMENT_NOT_FOUND", `No Tollgate deployment for chain ${chainId}`);
    this.chainId = chainId;
  }
}
