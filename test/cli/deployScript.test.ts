// scripts/deploy.ts (what docs/deploy-base.md runs against Base) on a local node, and the hardhat-verify
// configuration for Base: both as far as they go without a network.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import hre from "hardhat";
import { MockAgent } from "undici";
import { CREATE2_FACTORY, CREATE2_FACTORY_RUNTIME, deployTollgate } from "../../scripts/deployment.js";
import { type LocalChain, startLocalChain } from "../../scripts/localChain.js";
import { getDeployment } from "../../sdk/src/index.js";
import { skipUnderCoverage } from "./helpers.js";
// The plugin's own verification routine, which the `verify` task runs; its internal entry also takes the
// HTTP dispatcher and the provider (the package exports only the two-argument wrapper).
import { verifyContract } from "../../node_modules/@nomicfoundation/hardhat-verify/dist/src/internal/verification.js";

const run = promisify(execFile);

describe("scripts/deploy.ts", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let scratch: string;

  before(async function () {
    skipUnderCoverage(this);
    chain = await startLocalChain({ deploy: false });
    scratch = await mkdtemp(path.join(tmpdir(), "tollgate-deploy-script-"));
  });

  after(async () => {
    await chain?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const deploy = () =>
    run("node_modules/.bin/hardhat", ["run", "--no-compile", "scripts/deploy.ts", "--network", "localhost"], {
      env: { ...process.env, LOCALHOST_RPC_URL: chain.rpcUrl, TOLLGATE_DEPLOYMENTS_DIR: scratch },
    });

  it("test_deployScript_localChain_deploysAtTheStatedCreate2Address_secondRunSendsNothing", async () => {
    const stated = getDeployment({ chainId: 8453 }).contracts.TollgateEscrow.address;
    assert.equal(getDeployment({ chainId: 84532 }).contracts.TollgateEscrow.address, stated);
    assert.equal(await chain.publicClient.getCode({ address: stated }), undefined, "the chain starts bare");

    const first = await deploy();
    assert.match(first.stdout, new RegExp(`TollgateEscrow: deployed at ${stated}`));
    const file = path.join(scratch, "localhost.json");
    const record = JSON.parse(await readFile(file, "utf8"));
    assert.equal(record.contracts.TollgateEscrow.address, stated, "the address Base's record states");
    assert.equal(record.chainId, 31337);
    assert.equal(record.closeGracePeriod, 900);
    const receipt = await chain.publicClient.getTransactionReceipt({ hash: record.contracts.TollgateEscrow.transactionHash });
    assert.equal(Number(receipt.blockNumber), record.contracts.TollgateEscrow.blockNumber);
    assert.ok(await chain.publicClient.getCode({ address: stated }));

    const deployer = receipt.from;
    const nonce = await chain.publicClient.getTransactionCount({ address: deployer });
    const second = await deploy();
    assert.match(second.stdout, /TollgateEscrow: already deployed at/);
    assert.equal(await chain.publicClient.getTransactionCount({ address: deployer }), nonce, "no transaction sent");
    assert.deepEqual(JSON.parse(await readFile(file, "utf8")), record, "the record keeps the first run's block and transaction");
  });
});

describe("hardhat-verify configuration for Base", function () {
  this.timeout(60_000);

  it("test_verify_base_resolvesTheEscrowItsArgsAndChain_andSendsEtherscanV2TheRequest", async () => {
    // A chain that calls itself Base, with the escrow where scripts/deploy.ts puts it, and Etherscan's
    // API answered by undici's MockAgent: what `npx hardhat verify --network base <address>` would send.
    const { network } = hre;
    const { viem, provider } = await network.create({ override: { chainId: 8453 } });
    const publicClient = await viem.getPublicClient();
    await publicClient.request({ method: "hardhat_setCode" as never, params: [CREATE2_FACTORY, CREATE2_FACTORY_RUNTIME] as never });
    const [walletClient] = await viem.getWalletClients();
    await deployTollgate({ publicClient, walletClient: walletClient!, networkName: "base", readArtifact: (name) => hre.artifacts.readArtifact(name) as never });
    const address = getDeployment({ chainId: 8453 }).contracts.TollgateEscrow.address;

    const agent = new MockAgent();
    agent.disableNetConnect();
    const etherscan = agent.get("https://api.etherscan.io");
    const requests: { query: URLSearchParams; body: URLSearchParams | undefined }[] = [];
    const record = (options: { query?: Record<string, string>; body?: unknown }) => {
      requests.push({ query: new URLSearchParams(options.query), body: options.body === undefined ? undefined : new URLSearchParams(String(options.body)) });
    };
    const api = (action: string) => (path: string) => path.startsWith("/v2/api?") && new URL(path, "https://api.etherscan.io").searchParams.get("action") === action;
    etherscan.intercept({ path: api("getsourcecode"), method: "GET" }).reply(200, (options) => (record(options as never), { status: "1", message: "OK", result: [{ SourceCode: "" }] }));
    etherscan.intercept({ path: api("verifysourcecode"), method: "POST" }).reply(200, (options) => (record(options as never), { status: "1", message: "OK", result: "guid-1" }));
    etherscan.intercept({ path: api("checkverifystatus"), method: "GET" }).reply(200, (options) => (record(options as never), { status: "1", message: "OK", result: "Pass - Verified" }));

    const previousKey = process.env.ETHERSCAN_API_KEY;
    process.env.ETHERSCAN_API_KEY = "test-etherscan-key";
    const lines: string[] = [];
    try {
      const verified = await verifyContract({ address, provider: "etherscan" }, hre, (line: string) => lines.push(line), agent as never, provider);
      assert.equal(verified, true);
    } finally {
      if (previousKey === undefined) delete process.env.ETHERSCAN_API_KEY;
      else process.env.ETHERSCAN_API_KEY = previousKey;
      await agent.close();
    }

    assert.deepEqual(requests.map(({ query }) => query.get("action")), ["getsourcecode", "verifysourcecode", "checkverifystatus"]);
    for (const { query } of requests) {
      assert.equal(query.get("chainid"), "8453", "Etherscan v2: one endpoint, the chain in the query");
      assert.equal(query.get("apikey"), "test-etherscan-key", "the key from ETHERSCAN_API_KEY");
    }
    const form = requests[1]!.body!;
    assert.equal(form.get("contractaddress"), address);
    assert.equal(form.get("contractname"), "project/contracts/TollgateEscrow.sol:TollgateEscrow", "Hardhat 3's source name of the escrow");
    assert.equal(form.get("codeformat"), "solidity-standard-json-input");
    assert.match(form.get("compilerversion")!, /^v0\.8\.30\+commit\.[0-9a-f]{8}$/);
    assert.equal(form.get("constructorArguements") ?? form.get("constructorArguments"), "", "the escrow takes no constructor arguments");
    const input = JSON.parse(form.get("sourceCode")!) as { settings: { optimizer: { runs: number }; viaIR: boolean; evmVersion: string }; sources: Record<string, unknown> };
    assert.deepEqual([input.settings.optimizer.runs, input.settings.viaIR, input.settings.evmVersion], [1_000_000, true, "cancun"]);
    assert.ok("project/contracts/TollgateEscrow.sol" in input.sources, Object.keys(input.sources).join(", "));
    assert.ok(lines.some((line) => line.includes("https://basescan.org/address/")), lines.join("\n"));
  });
});
