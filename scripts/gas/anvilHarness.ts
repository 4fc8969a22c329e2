// The escrow's gas on anvil (the chain the reference figures come from), for
// `BENCH_GAS_HARNESS=anvil npm run bench:gas`: anvil 1.7.1 from node_modules on a loopback port, the escrow
// from its Hardhat artifact, PlainToken (plainToken.ts) as the token, and the same flow as the Hardhat run.
import { type ChildProcess, spawn } from "node:child_process";
import {
  type Abi,
  type Account,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  type PublicClient,
  type WalletClient,
  type Transport,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { ANVIL_BINARY, ANVIL_WITH_PARENT } from "../anvilBinary.js";
import { freePort, TEST_MNEMONIC } from "../localChain.js";
import { type DeployedContract, type GasReport, measureEscrowGas } from "./measureEscrowGas.js";
import { compilePlainToken } from "./plainToken.js";

export { ANVIL_BINARY, ANVIL_WITH_PARENT };

/** The hardfork the reference figures were measured on; `--prune-history` keeps anvil's memory flat. */
const ANVIL_ARGS = ["--hardfork", "osaka", "--prune-history", "--host", "127.0.0.1", "--silent"];

export type MeasureEscrowGasOnAnvilParameters = {
  /** The escrow's Hardhat artifact (artifacts/contracts/TollgateEscrow.sol/TollgateEscrow.json). */
  escrowArtifact: { abi: Abi; bytecode: Hex };
};

export type MeasureEscrowGasOnAnvilReturnType = GasReport;

export async function measureEscrowGasOnAnvil({
  escrowArtifact,
}: MeasureEscrowGasOnAnvilParameters): Promise<MeasureEscrowGasOnAnvilReturnType> {
  const anvil = await startAnvil();
  try {
    const account = (index: number) =>
      createWalletClient({ chain: anvil.chain, transport: http(), account: mnemonicToAccount(TEST_MNEMONIC, { addressIndex: index }) });
    const [deployer, payer, payee] = [account(0), account(1), account(2)];
    const tokenArtifact = compilePlainToken();
    // The deployer holds the whole supply and funds the others by transfer, as a holder of a real stablecoin would.
    const token = await deploy(anvil.publicClient, deployer, { ...tokenArtifact, args: [10n ** 30n] });
    const escrow = await deploy(anvil.publicClient, deployer, { ...escrowArtifact, args: [] });
    return await measureEscrowGas({
      publicClient: anvil.publicClient,
      payer,
      payee,
      escrow,
      token,
      async fund({ to, amount }) {
        const hash = await deployer.writeContract({ ...token, functionName: "transfer", args: [to, amount] });
        await anvil.publicClient.waitForTransactionReceipt({ hash });
      },
      async increaseTime(seconds) {
        await anvil.publicClient.request({ method: "evm_increaseTime" as never, params: [seconds] as never });
        await anvil.publicClient.request({ method: "evm_mine" as never, params: [] as never });
      },
    });
  } finally {
    await anvil.stop();
  }
}

type Anvil = { chain: Chain; publicClient: PublicClient; stop(): Promise<void> };

async function startAnvil(): Promise<Anvil> {
  const port = await freePort();
  const rpcUrl = `http://127.0.0.1:${port}`;
  const watcher = spawn(process.execPath, [ANVIL_WITH_PARENT, ANVIL_BINARY, ...ANVIL_ARGS, "--port", String(port)], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  // A normal exit or an uncaught error ends this process without awaiting `stop`: the watcher must go too.
  const stopOnExit = () => watcher.kill("SIGTERM");
  process.once("exit", stopOnExit);
  const chain = defineChain({
    id: 31337,
    name: "anvil (loopback)",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const publicClient = createPublicClient({ chain, transport: http(), pollingInterval: 20 });
  const stop = () => {
    process.off("exit", stopOnExit);
    return stopProcess(watcher);
  };
  try {
    await waitUntilServing(publicClient, watcher);
  } catch (error) {
    await stop();
    throw error;
  }
  return { chain, publicClient, stop };
}

async function waitUntilServing(client: PublicClient, watcher: ChildProcess) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (watcher.exitCode !== null) throw new Error(`anvil exited with code ${watcher.exitCode} before serving`);
    try {
      await client.getChainId();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error("anvil did not answer within 30 s");
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

async function deploy(
  publicClient: PublicClient,
  deployer: WalletClient<Transport, Chain, Account>,
  artifact: { abi: Abi; bytecode: Hex; args: readonly unknown[] },
): Promise<DeployedContract> {
  const hash = await deployer.deployContract(artifact);
  const { contractAddress, status } = await publicClient.waitForTransactionReceipt({ hash });
  if (status !== "success" || !contractAddress) throw new Error(`deploying ${hash} failed`);
  return { address: contractAddress, abi: artifact.abi };
}
