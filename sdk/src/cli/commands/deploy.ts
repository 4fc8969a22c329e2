import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { chainPresets } from "../../deployments/chainPresets.js";
import { deployTollgate, type DeploymentFile } from "../../deployments/deployTollgate.js";
import type { PublicClient } from "viem";
import type { Command } from "../command.js";
import {
  CHAIN_OPTIONS,
  connect,
  loadAccount,
  noPositionals,
  stringOption,
  walletFor,
} from "../context.js";
import { usageError } from "../errors.js";
import { findCreation } from "../findCreation.js";
import { fields, toJson } from "../output.js";

export const deployCommand: Command = {
  name: "deploy",
  summary: "deploy the escrow (and a mock USDC on local chains) at its deterministic address",
  help: `Usage: tollgate deploy [--out <file>] [--network-name <name>]

Deploys TollgateEscrow through the canonical CREATE2 factory (0x4e59…956c) with Tollgate's salt, so it
lands at the same address on every chain; on local chains (31337) it also deploys the mock USDC and
installs the factory when the node lacks it. Idempotent: a contract already at its address is reported,
not deployed again. The bytecode is the SDK's bundled copy, identical to the repository's artifacts.

Options:
  --out <file>           write the deployment record (as scripts/deploy.ts writes deployments/<network>.json);
                         an existing record there keeps its block and transaction for contracts still in place
  --network-name <name>  the record's "network" (default: localhost, baseSepolia or base by chain id, else chain-<id>)

Chain options:
  --rpc-url <url>        JSON-RPC endpoint; default: $TOLLGATE_RPC_URL
  --chain-id <id>        expected chain id: refuses to run when the node is on another chain

The deployer's key is read from $TOLLGATE_PRIVATE_KEY and from nowhere else.`,
  options: { ...CHAIN_OPTIONS, out: { type: "string" }, "network-name": { type: "string" } },
  async run(context) {
    noPositionals(context);
    if (stringOption(context, "escrow") !== undefined) throw usageError("deploy takes no --escrow: the address follows from the bytecode");
    const account = loadAccount(context);
    const connection = await connect(context);
    const out = stringOption(context, "out");
    const file = out === undefined ? undefined : resolve(context.io.cwd, out);
    const previous = file === undefined ? undefined : await readPrevious(file);
    const networkName =
      stringOption(context, "network-name") ??
      Object.entries(chainPresets).find(([, preset]) => preset.chain.id === connection.chainId)?.[0] ??
      `chain-${connection.chainId}`;

    const lines: string[] = [];
    const found = await deployTollgate({
      publicClient: connection.publicClient,
      walletClient: walletFor(connection, account),
      networkName,
      previous,
      log: (line) => {
        lines.push(line);
        context.log(line);
      },
    });
    const deployment = await withCreations(connection.publicClient, found);
    if (file !== undefined) {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, toJson(deployment) + "\n");
      context.log(`wrote ${file}`);
    }
    return {
      json: { ...deployment, deployer: account.address, ...(file === undefined ? {} : { file }) },
      human: fields([
        ["network", `${deployment.network} (chain ${deployment.chainId})`],
        ...Object.entries(deployment.contracts).map(([name, contract]): [string, string] => [name, contract.address]),
        ["close grace period", `${deployment.closeGracePeriod} s`],
        ...(file === undefined ? [] : [["record", file] as [string, string]]),
      ]),
    };
  },
};

/** Fills in block and transaction for contracts found already deployed with no record of their creation. */
async function withCreations(publicClient: PublicClient, deployment: DeploymentFile): Promise<DeploymentFile> {
  const contracts = { ...deployment.contracts };
  for (const [name, contract] of Object.entries(contracts)) {
    if (contract.transactionHash !== null) continue;
    const creation = await findCreation({ publicClient, address: contract.address });
    if (creation !== undefined) contracts[name] = { ...contract, ...creation };
  }
  return { ...deployment, contracts };
}

async function readPrevious(file: string): Promise<DeploymentFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as DeploymentFile;
  } catch {
    throw usageError(`--out: ${file} exists but is not JSON`);
  }
}
