// Deterministic deployment of the escrow (and, on local chains, the mock stablecoin) through the
// canonical CREATE2 factory, so the escrow has the same address on every chain it is deployed to.
// The one implementation behind scripts/deploy.ts, scripts/localChain.ts and `tollgate deploy`.
import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  concat,
  encodeDeployData,
  getContractAddress,
  type Hex,
  keccak256,
  type PublicClient,
  stringToHex,
  type Transport,
  type WalletClient,
} from "viem";
import { mockStablecoinAbi } from "../generated/mockStablecoinAbi.js";
import { mockStablecoinBytecode } from "../generated/mockStablecoinBytecode.js";
import { tollgateEscrowAbi } from "../generated/tollgateEscrowAbi.js";
import { tollgateEscrowBytecode } from "../generated/tollgateEscrowBytecode.js";
import { waitForTransactionOutcome } from "../transactions/waitForTransactionOutcome.js";
import { LOCAL_CHAIN_IDS } from "./localChainIds.js";

/** The widely deployed deterministic-deployment proxy (present on Base and Base Sepolia). */
export const CREATE2_FACTORY: Address = "0x4e59b44847b379578588920ca78fbf26c0b4956c";
/** Its runtime code: calldata is `salt ‖ initCode`; it returns the 20-byte address it created. */
export const CREATE2_FACTORY_RUNTIME: Hex =
  "0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3";

export { LOCAL_CHAIN_IDS };
export const DEPLOYMENT_SALT: Hex = keccak256(stringToHex("tollgate.v1"));
/** Constructor arguments of the mock stablecoin on local chains. */
export const MOCK_STABLECOIN_ARGS = ["Mock USD Coin", "USDC"] as const;

/** One contract as deployTollgate found or created it; `transactionHash` is null when it was already there and unrecorded. */
export type ContractDeployment = {
  address: Address;
  blockNumber: number;
  transactionHash: Hex | null;
};

/** What deployTollgate returns, in the shape of a deployments/<network>.json record. */
export type DeploymentFile = {
  network: string;
  chainId: number;
  closeGracePeriod: number;
  contracts: Record<string, ContractDeployment>;
};

/** ABI and creation bytecode of one contract. */
export type ContractArtifact = { abi: readonly unknown[]; bytecode: Hex };

export type DeployTollgateParameters = {
  publicClient: PublicClient;
  /** Sends the deployment transactions; must carry an account. */
  walletClient: WalletClient<Transport, Chain | undefined, Account | undefined>;
  /** Recorded as `network` in the result. */
  networkName: string;
  /**
   * Where the ABI and bytecode of `TollgateEscrow` / `MockStablecoin` come from. Defaults to the SDK's
   * generated bindings; Hardhat scripts pass the freshly compiled artifacts (the bindings' drift test
   * keeps the two equal, and with them the deployed addresses).
   */
  readArtifact?: ((name: string) => Promise<ContractArtifact>) | undefined;
  /** The record written last time, whose entries are kept for contracts still at their address. */
  previous?: DeploymentFile | undefined;
  log?: ((line: string) => void) | undefined;
};

const BUNDLED: Record<string, ContractArtifact> = {
  TollgateEscrow: { abi: tollgateEscrowAbi, bytecode: tollgateEscrowBytecode },
  MockStablecoin: { abi: mockStablecoinAbi, bytecode: mockStablecoinBytecode },
};

/** The SDK's own ABI and bytecode of a bound contract. */
export async function readBundledArtifact(name: string): Promise<ContractArtifact> {
  const artifact = BUNDLED[name];
  if (artifact === undefined) throw new Error(`no bundled bytecode for ${name}`);
  return artifact;
}

/** The CREATE2 address a contract gets from the factory with the Tollgate salt. */
export function predictDeploymentAddress({ artifact, args = [] }: { artifact: ContractArtifact; args?: readonly unknown[] }): Address {
  return getContractAddress({ opcode: "CREATE2", from: CREATE2_FACTORY, salt: DEPLOYMENT_SALT, bytecode: initCodeOf(artifact, args) });
}

function initCodeOf(artifact: ContractArtifact, args: readonly unknown[]): Hex {
  return encodeDeployData({ abi: artifact.abi as Abi, bytecode: artifact.bytecode, args } as never);
}

/**
 * Deploys (or finds already deployed) the escrow, and the mock stablecoin on local chains. Idempotent:
 * a contract whose CREATE2 address already has code is reported, not sent again.
 */
export async function deployTollgate({
  publicClient,
  walletClient,
  networkName,
  readArtifact = readBundledArtifact,
  previous,
  log = () => {},
}: DeployTollgateParameters): Promise<DeploymentFile> {
  const chainId = await publicClient.getChainId();
  const isLocal = LOCAL_CHAIN_IDS.has(chainId);
  await ensureFactory(publicClient, isLocal);

  const deployOne = async (name: string, args: readonly unknown[] = []): Promise<ContractDeployment> => {
    const initCode = initCodeOf(await readArtifact(name), args);
    const address = getContractAddress({ opcode: "CREATE2", from: CREATE2_FACTORY, salt: DEPLOYMENT_SALT, bytecode: initCode });
    if (await publicClient.getCode({ address })) {
      log(`${name}: already deployed at ${address}`);
      const known = previous?.chainId === chainId ? previous.contracts[name] : undefined;
      return known?.address === address ? known : { address, blockNumber: 0, transactionHash: null };
    }
    const hash = await walletClient.sendTransaction({
      account: walletClient.account!,
      chain: walletClient.chain,
      to: CREATE2_FACTORY,
      data: concat([DEPLOYMENT_SALT, initCode]),
    });
    const receipt = await waitForTransactionOutcome({ client: publicClient, hash });
    if (!(await publicClient.getCode({ address }))) {
      throw new Error(`${name}: deployment transaction ${hash} did not create ${address}`);
    }
    log(`${name}: deployed at ${address} (block ${receipt.blockNumber}, gas ${receipt.gasUsed})`);
    return { address, blockNumber: Number(receipt.blockNumber), transactionHash: hash };
  };

  const contracts: Record<string, ContractDeployment> = { TollgateEscrow: await deployOne("TollgateEscrow") };
  if (isLocal) contracts.MockStablecoin = await deployOne("MockStablecoin", MOCK_STABLECOIN_ARGS);

  const closeGracePeriod = await publicClient.readContract({
    address: contracts.TollgateEscrow!.address,
    abi: tollgateEscrowAbi,
    functionName: "CLOSE_GRACE_PERIOD",
  });
  return { network: networkName, chainId, closeGracePeriod: Number(closeGracePeriod), contracts };
}

async function ensureFactory(publicClient: PublicClient, isLocal: boolean) {
  if (await publicClient.getCode({ address: CREATE2_FACTORY })) return;
  if (!isLocal) throw new Error(`no CREATE2 factory at ${CREATE2_FACTORY} on this chain`);
  // Local chains without the factory get its runtime code directly (Hardhat's and Anvil's methods).
  for (const method of ["hardhat_setCode", "anvil_setCode"] as const) {
    try {
      await publicClient.request({ method, params: [CREATE2_FACTORY, CREATE2_FACTORY_RUNTIME] } as never);
      return;
    } catch {
      // try the other node's method
    }
  }
  throw new Error(`could not install the CREATE2 factory on local chain`);
}
