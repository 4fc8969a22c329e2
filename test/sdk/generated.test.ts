import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import hre from "hardhat";
import { BOUND_CONTRACTS, DEPLOYMENTS_FILE, GENERATED_DIR, renderBindings } from "../../scripts/bindings/renderBindings.js";
import { LOCAL_CHAIN_IDS, MOCK_STABLECOIN_ARGS, predictDeploymentAddress, readBundledArtifact } from "../../sdk/src/deployments/deployTollgate.js";
import { deployments } from "../../sdk/src/generated/deployments.js";
import { mockStablecoinBytecode } from "../../sdk/src/generated/mockStablecoinBytecode.js";
import { tollgateEscrowBytecode } from "../../sdk/src/generated/tollgateEscrowBytecode.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
// `hardhat test --coverage` compiles instrumented contracts into the artifacts: their bytecode is not the
// deployable one, so the bytecode comparisons belong to the plain run of the suite.
const instrumented = hre.globalOptions.coverage === true;
const bytecodeFiles: ReadonlySet<string> = new Set(BOUND_CONTRACTS.map(({ bytecodeFileName }) => bytecodeFileName));

describe("generated bindings", () => {
  it("sdk/src/generated is exactly what npm run generate makes from the artifacts and deployments", async () => {
    const expected = await renderBindings({ artifacts: hre.artifacts, deploymentsDir: path.join(root, "deployments") });
    const directory = path.join(root, GENERATED_DIR);
    assert.deepEqual((await readdir(directory)).sort(), [...expected.keys()].sort(), "stale or missing files: run npm run generate");
    for (const [name, contents] of expected) {
      if (instrumented && bytecodeFiles.has(name)) continue;
      assert.equal(await readFile(path.join(directory, name), "utf8"), contents, `${name} is stale: run npm run generate`);
    }
  });

  it("bundles each bound contract's creation bytecode exactly as its artifact has it", async function () {
    if (instrumented) this.skip();
    const bundled: Record<string, string> = { TollgateEscrow: tollgateEscrowBytecode, MockStablecoin: mockStablecoinBytecode };
    for (const { contractName } of BOUND_CONTRACTS) {
      const artifact = await hre.artifacts.readArtifact(contractName);
      assert.equal(bundled[contractName], artifact.bytecode, `${contractName} bytecode is stale: run npm run generate`);
      assert.equal((await readBundledArtifact(contractName)).bytecode, artifact.bytecode);
    }
  });

  it("refuses an artifact without creation bytecode or with unlinked libraries", async () => {
    const reader = (override: object) => ({
      readArtifact: async (name: string) => ({ ...(await hre.artifacts.readArtifact(name)), ...override }),
    });
    const deploymentsDir = path.join(root, "deployments");
    await assert.rejects(renderBindings({ artifacts: reader({ bytecode: "0x" }), deploymentsDir }), /TollgateEscrow: the artifact has no creation bytecode/);
    await assert.rejects(
      renderBindings({ artifacts: reader({ linkReferences: { "lib.sol": { Lib: [] } } }), deploymentsDir }),
      /TollgateEscrow: bytecode with unlinked libraries/,
    );
  });

  it("local deployment records hold the CREATE2 addresses of the bundled bytecode (what a fresh local chain gets)", async () => {
    const local = deployments.filter(({ chainId }) => LOCAL_CHAIN_IDS.has(chainId));
    assert.ok(local.length > 0, "no local deployment record");
    const fix = "stale local record: on a fresh `npx hardhat node`, run `npx hardhat run scripts/deploy.ts --network localhost` and `npm run generate`";
    for (const deployment of local) {
      const escrow = predictDeploymentAddress({ artifact: await readBundledArtifact("TollgateEscrow") });
      const token = predictDeploymentAddress({ artifact: await readBundledArtifact("MockStablecoin"), args: MOCK_STABLECOIN_ARGS });
      assert.equal(deployment.contracts.TollgateEscrow.address, escrow, `${deployment.network}: ${fix}`);
      assert.equal(deployment.contracts.MockStablecoin?.address, token, `${deployment.network}: ${fix}`);
    }
  });

  describe("deployment bundling", () => {
    let scratch: string;
    let directory: string;
    beforeEach(async () => {
      scratch = await mkdtemp(path.join(tmpdir(), "tollgate-bindings-"));
      directory = path.join(scratch, "deployments");
      await mkdir(directory);
    });
    afterEach(async () => {
      await rm(scratch, { recursive: true, force: true });
    });

    const record = (network: string, chainId: number) => ({
      network,
      chainId,
      closeGracePeriod: 900,
      contracts: {
        TollgateEscrow: {
          address: "0x5b91cea2d4699e53c88bac8fc786103aa26f4b4b",
          blockNumber: 7,
          transactionHash: `0x${"AB".repeat(32)}`,
        },
      },
      ignoredField: true,
    });

    async function bundle(): Promise<unknown> {
      const files = await renderBindings({ artifacts: hre.artifacts, deploymentsDir: directory });
      const module = path.join(scratch, "deployments.ts");
      await writeFile(module, files.get(DEPLOYMENTS_FILE)!);
      return ((await import(pathToFileURL(module).href)) as { deployments: unknown }).deployments;
    }

    it("bundles every record sorted by file name, checksummed, with unknown fields dropped", async () => {
      await writeFile(path.join(directory, "baseSepolia.json"), JSON.stringify(record("baseSepolia", 84532)));
      await writeFile(path.join(directory, "base.json"), JSON.stringify(record("base", 8453)));
      await writeFile(path.join(directory, "notes.txt"), "not a deployment");
      const escrow = { address: "0x5B91cea2d4699e53c88bAc8fC786103AA26F4B4B", blockNumber: 7, transactionHash: `0x${"ab".repeat(32)}` };
      assert.deepEqual(await bundle(), [
        { network: "base", chainId: 8453, closeGracePeriod: 900, contracts: { TollgateEscrow: escrow } },
        { network: "baseSepolia", chainId: 84532, closeGracePeriod: 900, contracts: { TollgateEscrow: escrow } },
      ]);
    });

    it("bundles nothing when there is no deployments directory", async () => {
      await rm(directory, { recursive: true });
      assert.deepEqual(await bundle(), []);
    });

    it("refuses malformed records and two records for one chain, naming the file", async () => {
      const broken = record("broken", 1) as Record<string, unknown>;
      broken.contracts = { TollgateEscrow: { address: "0x1234", blockNumber: 1, transactionHash: `0x${"00".repeat(32)}` } };
      await writeFile(path.join(directory, "broken.json"), JSON.stringify(broken));
      await assert.rejects(bundle(), /broken\.json: contracts\.TollgateEscrow\.address is not an address/);

      await rm(path.join(directory, "broken.json"));
      await writeFile(path.join(directory, "a.json"), JSON.stringify(record("a", 5)));
      await writeFile(path.join(directory, "b.json"), JSON.stringify(record("b", 5)));
      await assert.rejects(bundle(), /b\.json: chain 5 is also deployed as "a"/);
    });
  });
});
