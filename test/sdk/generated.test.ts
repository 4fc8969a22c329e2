import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import hre from "hardhat";
import { DEPLOYMENTS_FILE, GENERATED_DIR, renderBindings } from "../../scripts/bindings/renderBindings.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("generated bindings", () => {
  it("sdk/src/generated is exactly what npm run generate makes from the artifacts and deployments", async () => {
    const expected = await renderBindings({ artifacts: hre.artifacts, deploymentsDir: path.join(root, "deployments") });
    const directory = path.join(root, GENERATED_DIR);
    assert.deepEqual((await readdir(directory)).sort(), [...expected.keys()].sort(), "stale or missing files: run npm run generate");
    for (const [name, contents] of expected) {
      assert.equal(await readFile(path.join(directory, name), "utf8"), contents, `${name} is stale: run npm run generate`);
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
