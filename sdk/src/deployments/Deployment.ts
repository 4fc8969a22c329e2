import type { Address, Hex } from "viem";

/** Where and when one contract was deployed. */
export type DeployedContract = {
  address: Address;
  blockNumber: number;
  transactionHash: Hex;
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
