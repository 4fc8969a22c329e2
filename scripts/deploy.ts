// npx hardhat run scripts/deploy.ts --network <localhost|baseSepolia|base>
// Writes deployments/<network>.json. Base networks read BASE_SEPOLIA_RPC_URL / BASE_RPC_URL and
// DEPLOYER_PRIVATE_KEY from the environment (or Hardhat's keystore).
import { mkdir, readFile, writeFile } from "node:fs/promises";
import hre, { network } from "hardhat";
import { deployTollgate } from "./deployment.js";

const connection = await network.create();
const { viem, networkName } = connection;
const [walletClient] = await viem.getWalletClients();
if (!walletClient) throw new Error(`no deployer account configured for network ${networkName}`);

const file = `deployments/${networkName}.json`;
const previous = await readFile(file, "utf8").then(JSON.parse, () => undefined);
const deployment = await deployTollgate({
  publicClient: await viem.getPublicClient(),
  walletClient,
  networkName,
  readArtifact: (name) => hre.artifacts.readArtifact(name) as never,
  previous,
  log: console.log,
});

await mkdir("deployments", { recursive: true });
await writeFile(file, JSON.stringify(deployment, null, 2) + "\n");
console.log(`wrote ${file}`);
