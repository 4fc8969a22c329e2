import type { Address, Hex } from "viem";

/**
 * Where one contract is on a chain. `blockNumber` and `transactionHash` are recorded once the contract
 * has been deployed there by scripts/deploy.ts or `tollgate deploy`; a record without them states the
 * CREATE2 address (the same on every chain) where nobody has recorded a deployment yet, so callers
 * check for code there (assertEscrowDeployed).
 */
export type DeployedContract = {
  address: Address;
  blockNumber?: number | undefined;
  transactionHash?: Hex | undefined;
};

/** One deployments/<network>.json record, as scripts/deploy.ts writes it. */
export type Deployment = {
  network: string;
  chainId: number;
  /** The escrow's CLOSE_GRACE_PERIOD in seconds. */
  closeGracePeriod: number;
  contracts: {
    TollgateEscrow: DeployedContract;
    /** Only on local chains, where a mock stands in for USDC. */
    MockStablecoin?: DeployedContract;
  };
};
