import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getAddress } from "viem";
import { usdc } from "viem/tokens";
import { chainPresets, DeploymentNotFoundError, getDeployment } from "../../sdk/src/index.js";

const deploymentsDir = fileURLToPath(new URL("../../deployments/", import.meta.url));

describe("deployments and chain presets", () => {
  it("getDeployment returns every committed deployments/*.json record", async () => {
    const names = (await readdir(deploymentsDir)).filter((name) => name.endsWith(".json"));
    for (const name of names) {
      const record = JSON.parse(await readFile(path.join(deploymentsDir, name), "utf8"));
      const deployment = getDeployment({ chainId: record.chainId });
      assert.equal(deployment.network, record.network);
      assert.equal(deployment.closeGracePeriod, record.closeGracePeriod);
      assert.equal(deployment.contracts.TollgateEscrow.address, getAddress(record.contracts.TollgateEscrow.address));
      assert.equal(deployment.contracts.MockStablecoin?.address, record.contracts.MockStablecoin && getAddress(record.contracts.MockStablecoin.address));
    }
  });

  it("getDeployment throws DeploymentNotFoundError for a chain without one", () => {
    assert.throws(() => getDeployment({ chainId: 999_999_999 }), (error: unknown) => {
      assert.ok(error instanceof DeploymentNotFoundError);
      assert.equal(error.code, "DEPLOYMENT_NOT_FOUND");
      assert.equal(error.chainId, 999_999_999);
      return true;
    });
  });

  it("presets name the right chains and Circle's USDC addresses (as viem lists them)", () => {
    assert.equal(chainPresets.localhost.chain.id, 31337);
    assert.equal(chainPresets.baseSepolia.chain.id, 84532);
    assert.equal(chainPresets.base.chain.id, 8453);
    assert.equal(chainPresets.baseSepolia.usdc, usdc.addresses[84532]);
    assert.equal(chainPresets.base.usdc, usdc.addresses[8453]);
    assert.equal(chainPresets.localhost.usdc, undefined);
  });
});
