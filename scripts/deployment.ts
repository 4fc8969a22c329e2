// Deterministic deployment of the escrow (and, on local chains, the mock stablecoin) through the
// canonical CREATE2 factory, so the escrow has the same address on every chain it is deployed to.
import type { Address, Hex, PublicClient, WalletClient } from "viem";
import { concat, encodeDeployData, getContractAddress, keccak256, stringToHex } from "viem";

/** The widely deployed deterministic-deployment proxy (present on Base and Base Sepolia). */
export const CREATE2_FACTORY: Address = "0x4e59b44847b379578588920ca78fbf26c0b4956c";
/** Its runtime code: calldata is `salt ‖ initCode`; it returns the 20-byte address it created. */
const CREATE2_FACTORY_RUNTIME: Hex =
  "0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3";

export const LOCAL_CHAIN_IDS = new Set([31337]);
export const DEPLOYMENT_SALT: Hex = keccak256(stringToHex("tollgate.v1"));

export interface ContractDeployment {
  address: Address;
  blockNumber: number;
  transactionHash: Hex | null;
}

export interface DeploymentFile {
  network: string;
  chainId: number;
  closeGracePeriod: number;
  contracts: Record<string, ContractDeployment>;
}

interface Artifact {
  abi: readonly unknown[];
  bytecode: Hex;
}

export interface DeployParameters {
  publicClient: PublicClient;
  walletClient: WalletClient;
  networkName: string;
  readArtifact: (name: string) => Promise<Artifact>;
  /** The deployment file written last time, whose records are kept for contracts still at their address. */
  previous?: DeploymentFile;
  log?: (line: string) => void;
}

/** Deploys (or finds already deployed) the escrow, and the mock stablecoin on local chains. */
export async function deployTollgate({
  publicClient,
  walletClient,
  networkName,
  readArtifact,
  previous,
  log = () => {},
}: DeployParameters): Promise<DeploymentFile> {
  const chainId = await publicClient.getChainId();
  const isLocal = LOCAL_CHAIN_IDS.has(chainId);
  await ensureFactory(publicClient, isLocal);

  const deployOne = async (name: string, args: readonly unknown[] = []) => {
    const artifact = await readArtifact(name);
    const initCode = encodeDeployData({ abi: artifact.abi, bytecode: artifact.bytecode, args } as never);
    const address = getContractAddress({
      opcode: "CREATE2",
      from: CREATE2_FACTORY,
      salt: DEPLOYMENT_SALT,
      bytecode: initCode,
    });
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
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success" || !(await publicClient.getCode({ address }))) {
      throw new Error(`${name}: deployment transaction ${hash} did not create ${address}`);
    }
    log(`${name}: deployed at ${address} (block ${receipt.blockNumber}, gas ${receipt.gasUsed})`);
    return { address, blockNumber: Number(receipt.blockNumber), transactionHash: hash };
  };

  const contracts: Record<string, ContractDeployment> = { TollgateEscrow: await deployOne("TollgateEscrow") };
  if (isLocal) contracts.MockStablecoin = await deployOne("MockStablecoin", ["Mock USD Coin", "USDC"]);

  const closeGracePeriod = await publicClient.readContract({
    address: contracts.TollgateEscrow!.address,
    abi: [{ type: "function", name: "CLOSE_GRACE_PERIOD", inputs: [], outputs: [{ type: "uint64" }], stateMutability: "view" }],
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
