// A real local chain for the demo and the end-to-end tests: `hardhat node` on a loopback port, with the escrow and the mock
// stablecoin deployed by the same code as scripts/deploy.ts.
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import hre from "hardhat";
import {
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  http,
  type LocalAccount,
  type PublicClient,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { ANVIL_BINARY, ANVIL_WITH_PARENT } from "./anvilBinary.js";
import { loopbackChain } from "./loopbackChain.js";
import { deployTollgate, MOCK_STABLECOIN_ARGS, predictDeploymentAddress } from "./deployment.js";

/** Hardhat's and Anvil's well-known public test mnemonic: its keys hold only local test ether. */
export const TEST_MNEMONIC = "test test test test test test test test test test test junk";

export type LocalChain = {
  rpcUrl: string;
  chain: Chain;
  publicClient: PublicClient;
  escrow: Address;
  token: Address;
  /** Test account `index` of the well-known mnemonic. */
  account(index: number): LocalAccount;
  /** Mints mock USDC (6 decimals) to `to`. */
  mint(to: Address, amount: bigint): Promise<void>;
  balanceOf(owner: Address): Promise<bigint>;
  /** Moves the chain's clock forward and mines a block. */
  increaseTime(seconds: number): Promise<void>;
  stop(): Promise<void>;
};

/** Preloaded into the node so that it never outlives this process (see onParentExit.mjs). */
const EXIT_WITH_PARENT = fileURLToPath(new URL("./exitWithParent.mjs", import.meta.url));

/** Hardhat's CLI entry (its `bin`), which the package's `exports` do not expose by subpath. */
const HARDHAT_CLI = join(dirname(createRequire(import.meta.url).resolve("hardhat/package.json")), "dist/src/cli.js");

export type StartLocalChainParameters = {
  /**
   * Deploy the escrow and the mock stablecoin (default). With false the chain is bare: `escrow` and
   * `token` are the CREATE2 addresses a later deployment (e.g. `tollgate deploy`) puts them at.
   */
  deploy?: boolean;
  /** The node's chain id (default 31337, the one chain the SDK and the CLI treat as local). */
  chainId?: number;
  /**
   * Seconds between blocks: anvil (`--block-time`, Base's 2 s for time-to-first-response measures) instead of
   * `hardhat node`, which mines each transaction at once.
   */
  blockTime?: number;
};

export async function startLocalChain({ deploy = true, chainId = 31337, blockTime }: StartLocalChainParameters = {}): Promise<LocalChain> {
  const port = await freePort();
  const rpcUrl = `http://127.0.0.1:${port}`;
  const address = ["--port", String(port), "--chain-id", String(chainId)];
  // Its own process group, so a Ctrl-C at the terminal reaches the demo, which stops the chain itself.
  // anvil's watcher (a Node process) stops it with this process; `--prune-history` keeps it off the disk;
  // 40 funded accounts (Hardhat's node has 20), for benches that take a fresh buyer per run.
  const node = spawn(
    process.execPath,
    blockTime === undefined
      ? ["--import", pathToFileURL(EXIT_WITH_PARENT).href, HARDHAT_CLI, "node", "--hostname", "127.0.0.1", ...address]
      : [ANVIL_WITH_PARENT, ANVIL_BINARY, "--host", "127.0.0.1", ...address, "--block-time", String(blockTime), "--accounts", "40", "--prune-history", "--silent"],
    { cwd: hre.config.paths.root, env: withoutParentPid(process.env), stdio: ["ignore", "ignore", "pipe"], detached: true },
  );
  let stderr = "";
  node.stderr?.on("data", (chunk) => (stderr += chunk));
  const chain = loopbackChain({ id: chainId, rpcUrl, name: blockTime === undefined ? "Hardhat (loopback)" : "anvil (loopback)" });
  const publicClient = createPublicClient({ chain, transport: http(rpcUrl), pollingInterval: 50 });
  await waitUntilServing(publicClient, node, () => stderr);

  const account = (index: number) => mnemonicToAccount(TEST_MNEMONIC, { addressIndex: index });
  const deployer = createWalletClient({ chain, transport: http(rpcUrl), account: account(0) });
  const readArtifact = (name: string) => hre.artifacts.readArtifact(name) as never;
  let escrow: Address;
  let token: Address;
  if (deploy) {
    const deployment = await deployTollgate({ publicClient, walletClient: deployer, networkName: "e2e", readArtifact });
    escrow = deployment.contracts.TollgateEscrow!.address;
    token = deployment.contracts.MockStablecoin!.address;
  } else {
    escrow = predictDeploymentAddress({ artifact: await readArtifact("TollgateEscrow") });
    token = predictDeploymentAddress({ artifact: await readArtifact("MockStablecoin"), args: MOCK_STABLECOIN_ARGS });
  }
  const tokenAbi = (await hre.artifacts.readArtifact("MockStablecoin")).abi;

  return {
    rpcUrl,
    chain,
    publicClient,
    escrow,
    token,
    account,
    async mint(to, amount) {
      const hash = await deployer.writeContract({ address: token, abi: tokenAbi, functionName: "mint", args: [to, amount] });
      await publicClient.waitForTransactionReceipt({ hash });
    },
    balanceOf: (owner) => publicClient.readContract({ address: token, abi: tokenAbi, functionName: "balanceOf", args: [owner] }) as Promise<bigint>,
    async increaseTime(seconds) {
      await publicClient.request({ method: "evm_increaseTime" as never, params: [seconds] as never });
      await publicClient.request({ method: "evm_mine" as never, params: [] as never });
    },
    async stop() {
      await stopProcessGroup(node);
    },
  };
}

async function waitUntilServing(client: PublicClient, node: ChildProcess, stderr: () => string) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (node.exitCode !== null) throw new Error(`the local node exited: ${stderr()}`);
    try {
      await client.getChainId();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await stopProcessGroup(node);
  throw new Error(`the local node did not answer within 30 s: ${stderr()}`);
}

function stopProcessGroup(node: ChildProcess): Promise<void> {
  if (node.exitCode !== null || node.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    node.once("exit", () => resolve());
    try {
      process.kill(-node.pid!, "SIGTERM");
    } catch {
      resolve();
    }
  });
}

/** The node watches only the process that started it, which stops it in order when its own ancestor goes. */
function withoutParentPid(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { TOLLGATE_PARENT_PID: _ignored, ...rest } = env;
  return rest;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
