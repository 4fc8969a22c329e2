// npx hardhat run scripts/deploy.ts --network <localhost|baseSepolia|base>
// Deploys the escrow through the deterministic-deployment proxy (CREATE2, Tollgate's salt), so it lands at
// the address deployments/*.json and the SDK state for every chain; a second run sends nothing. On local
// chains the proxy's runtime code is put in place with hardhat_setCode / anvil_setCode and a mock USDC is
// deployed too. Writes deployments/<network>.json (TOLLGATE_DEPLOYMENTS_DIR changes the directory).
// Base networks read BASE_SEPOLIA_RPC_URL / BASE_RPC_URL and DEPLOYER_PRIVATE_KEY from the environment
// (or Hardhat's keystore); see docs/deploy-base.md.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import hre, { network } from "hardhat";
import { deployTollgate } from "./deployment.js";

const connection = await network.create();
const { viem, networkName } = connection;
const [walletClient] = await viem.getWalletClients();
if (!walletClient) throw new Error(`no deployer account configured for network ${networkName}`);

const directory = process.env.TOLLGATE_DEPLOYMENTS_DIR ?? "deployments";
const file = path.join(directory, `${networkName}.json`);
const previous = await readFile(file, "utf8").then(JSON.parse, () => undefined);
const deployment = await deployTollgate({
  publicClient: await viem.getPublicClient(),
  walletClient,
  networkName,
  readArtifact: (name) => hre.artifacts.readArtifact(name) as never,
  previous,
  log: console.log,
});

await mkdir(directory, { recursive: true });
await writeFile(file, JSON.stringify(deployment, null, 2) + "\n");
console.log(`wrote ${file}`);
