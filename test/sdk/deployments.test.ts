import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import hre, { network } from "hardhat";
import { getAddress, type Hex, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { base, baseSepolia } from "viem/chains";
import { usdc } from "viem/tokens";
import { CREATE2_FACTORY, CREATE2_FACTORY_RUNTIME, deployTollgate, predictDeploymentAddress } from "../../scripts/deployment.js";
import { createPayingFetch } from "../../sdk/src/client/index.js";
import { startLocalChain } from "../../scripts/localChain.js";
import { createMemoryStore, createPaymentGate } from "../../sdk/src/server/index.js";
import { startServer } from "../server/e2e/helpers.js";
import { assertEscrowDeployed, chainPresets, DeploymentNotFoundError, getDeployment } from "../../sdk/src/index.js";

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
      assert.match(error.message, /`escrows` on createPayingFetch, `escrow` on the gate/);
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

  it("test_deployments_baseAndBaseSepolia_stateTheEscrowsCreate2Address", async () => {
    // The address the deterministic-deployment proxy gives the compiled escrow (no constructor arguments,
    // so one address for every chain): what deploy.ts and `tollgate deploy` create, and what the SDK states.
    const artifact = await hre.artifacts.readArtifact("TollgateEscrow");
    const predicted = predictDeploymentAddress({ artifact: { abi: artifact.abi, bytecode: artifact.bytecode as Hex } });
    for (const chain of [base, baseSepolia]) {
      const deployment = getDeployment({ chainId: chain.id });
      assert.equal(deployment.contracts.TollgateEscrow.address, predicted, chain.name);
      assert.equal(deployment.closeGracePeriod, 900);
      assert.equal(deployment.contracts.MockStablecoin, undefined);
    }
    assert.equal(getDeployment({ chainId: 31337 }).contracts.TollgateEscrow.address, predicted);
  });

  it("test_deployments_createPayingFetchOnBase_constructsWithTheStatedEscrow", () => {
    // Threw DeploymentNotFoundError before Base had a record.
    const account = privateKeyToAccount(`0x${"11".repeat(32)}`);
    for (const chain of [base, baseSepolia]) assert.equal(typeof createPayingFetch({ account, chain, maxDeposit: 1_000_000n }), "function");
  });

  it("test_deployments_assertEscrowDeployed_noCodeAtTheStatedAddress_namesTheAddressAndTheFix", async () => {
    // A chain that calls itself Base (8453) where nothing is deployed yet, then after deploying there.
    const { viem } = await network.create({ override: { chainId: base.id } });
    const publicClient = await viem.getPublicClient();
    const stated = getDeployment({ chainId: base.id }).contracts.TollgateEscrow.address;
    await assert.rejects(assertEscrowDeployed({ client: publicClient }), (error: unknown) => {
      assert.ok(error instanceof DeploymentNotFoundError);
      assert.equal(error.chainId, base.id);
      assert.equal(error.escrow, stated);
      assert.ok(error.message.includes(`No Tollgate escrow at ${stated} on chain 8453`), error.message);
      assert.match(error.message, /`escrows` on createPayingFetch/);
      assert.match(error.message, /docs\/deploy-base\.md/);
      return true;
    });
    // The factory is on Base already; here Hardhat's node needs its code put in place.
    await publicClient.request({ method: "hardhat_setCode" as never, params: [CREATE2_FACTORY, CREATE2_FACTORY_RUNTIME] as never });
    const [walletClient] = await viem.getWalletClients();
    const deployment = await deployTollgate({ publicClient, walletClient: walletClient!, networkName: "base" });
    assert.equal(deployment.contracts.TollgateEscrow!.address, stated);
    assert.deepEqual(await assertEscrowDeployed({ client: publicClient }), { chainId: base.id, escrow: stated });
  });

  it("test_client_openOnAChainWithoutTheEscrow_throwsDeploymentNotFoundBeforeAnyTransaction", async function () {
    this.timeout(60_000);
    // The seller's chain has the escrow; the buyer's RPC serves a chain with the same id and no escrow
    // (a fork or a node that is not the seller's): the buyer must not approve or "open" into nothing.
    const seller = await startLocalChain();
    const bare = await startLocalChain({ deploy: false });
    try {
      const gate = createPaymentGate({
        chain: seller.chain,
        transport: http(seller.rpcUrl),
        escrow: seller.escrow,
        currency: seller.token,
        account: seller.account(1),
        store: createMemoryStore(),
        secret: "the deployment test's gate secret, 32+ bytes",
      });
      const route = gate.session({ amount: 10_000n });
      const server = await startServer((request) => route.handle(request, async () => new Response("paid")));
      try {
        const buyer = bare.account(2);
        const pay = createPayingFetch({ account: buyer, chain: bare.chain, transport: http(bare.rpcUrl), maxDeposit: 1_000_000n });
        await assert.rejects(pay(`${server.url}/photo`), (error: unknown) => {
          assert.ok(error instanceof DeploymentNotFoundError, String(error));
          assert.equal(error.escrow, seller.escrow);
          assert.match(error.message, /has no code at that address/);
          return true;
        });
        assert.equal(await bare.publicClient.getTransactionCount({ address: buyer.address }), 0, "no approve, no open");
      } finally {
        await server.close();
      }
    } finally {
      await bare.stop();
      await seller.stop();
    }
  });
});
