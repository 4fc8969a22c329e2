// tollgate deploy on a bare local chain, and the behaviour every command shares: help, exit codes for
// usage errors and an unreachable node, and the private key never echoed.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, type LocalChain, startLocalChain } from "../../scripts/localChain.js";
import { getDeployment } from "../../sdk/src/index.js";
import { cli, cliJson, privateKeyOf, skipUnderCoverage } from "./helpers.js";

type DeploymentJson = {
  network: string;
  chainId: number;
  closeGracePeriod: number;
  contracts: Record<string, { address: string; blockNumber: number; transactionHash: string | null }>;
  deployer: string;
};

describe("tollgate CLI: deploy, help and shared errors", function () {
  this.timeout(60_000);
  let chain: LocalChain;
  let scratch: string;
  let env: Record<string, string>;

  before(async function () {
    skipUnderCoverage(this);
    chain = await startLocalChain({ deploy: false });
    scratch = await mkdtemp(path.join(tmpdir(), "tollgate-cli-deploy-"));
    env = { TOLLGATE_RPC_URL: chain.rpcUrl, TOLLGATE_PRIVATE_KEY: privateKeyOf(chain.account(0)) };
  });

  after(async () => {
    await chain?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("deploys the escrow and the mock USDC at their CREATE2 addresses, and a second run finds them without sending anything", async () => {
    assert.equal(await chain.publicClient.getCode({ address: chain.escrow }), undefined, "the chain starts bare");
    const out = path.join(scratch, "deployments", "scratch.json");

    const first = await cli(["deploy", "--json", "--out", out, "--network-name", "scratch"], env);
    assert.equal(first.code, 0, first.stderr);
    const record = JSON.parse(first.stdout) as DeploymentJson;
    // The addresses Hardhat's artifacts predict: the CLI's bundled bytecode is the compiled contract's.
    assert.equal(record.contracts.TollgateEscrow!.address, chain.escrow);
    assert.equal(record.contracts.MockStablecoin!.address, chain.token);
    // And what the SDK bundles for chain 31337, so commands find the escrow without --escrow.
    assert.equal(record.contracts.TollgateEscrow!.address, getDeployment({ chainId: 31337 }).contracts.TollgateEscrow.address);
    assert.equal(record.network, "scratch");
    assert.equal(record.chainId, 31337);
    assert.equal(record.closeGracePeriod, 900);
    assert.equal(record.deployer, chain.account(0).address);
    assert.match(first.stderr, /TollgateEscrow: deployed at 0x/);
    assert.match(first.stderr, /MockStablecoin: deployed at 0x/);
    assert.ok(await chain.publicClient.getCode({ address: chain.escrow }));

    const written = JSON.parse(await readFile(out, "utf8")) as DeploymentJson;
    assert.deepEqual(written, { network: "scratch", chainId: 31337, closeGracePeriod: 900, contracts: record.contracts });
    assert.match(written.contracts.TollgateEscrow!.transactionHash!, /^0x[0-9a-f]{64}$/);

    const nonce = await chain.publicClient.getTransactionCount({ address: chain.account(0).address });
    const second = await cli(["deploy", "--out", out], env);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /TollgateEscrow: already deployed at/);
    assert.match(second.stderr, /MockStablecoin: already deployed at/);
    assert.match(second.stdout, new RegExp(`TollgateEscrow:\\s+${chain.escrow}`));
    assert.equal(await chain.publicClient.getTransactionCount({ address: chain.account(0).address }), nonce, "no transaction sent");
    // The record keeps the first run's block and transaction for contracts still in place.
    assert.deepEqual(JSON.parse(await readFile(out, "utf8")).contracts, record.contracts);
  });

  it("test_cli_deploy_alreadyDeployed_reportsTheExistingBlockAndTransaction", async () => {
    // Deployed by the test above; this run has no record to read, so it must find the creation on-chain.
    const creation = await chain.publicClient.getTransactionReceipt({
      hash: (JSON.parse(await readFile(path.join(scratch, "deployments", "scratch.json"), "utf8")) as DeploymentJson).contracts.TollgateEscrow!
        .transactionHash as `0x${string}`,
    });
    await chain.publicClient.request({ method: "evm_mine" as never, params: [] as never });
    const nonce = await chain.publicClient.getTransactionCount({ address: chain.account(0).address });
    const again = await cliJson<DeploymentJson>(["deploy"], env);
    assert.equal(await chain.publicClient.getTransactionCount({ address: chain.account(0).address }), nonce, "no transaction sent");
    const escrow = again.contracts.TollgateEscrow!;
    assert.equal(escrow.transactionHash, creation.transactionHash);
    assert.equal(escrow.blockNumber, Number(creation.blockNumber));
    const token = again.contracts.MockStablecoin!;
    assert.match(token.transactionHash ?? "", /^0x[0-9a-f]{64}$/);
    const tokenReceipt = await chain.publicClient.getTransactionReceipt({ hash: token.transactionHash as `0x${string}` });
    assert.equal(token.blockNumber, Number(tokenReceipt.blockNumber));
    assert.notEqual(token.transactionHash, escrow.transactionHash);
  });

  it("test_cli_mint_localTestTokens_inDecimalAmounts", async () => {
    const recipient = chain.account(4).address;
    const before = await chain.balanceOf(recipient);
    const minted = await cliJson<{ amount: string; balance: string; to: string; transactionHash: string }>(["mint", "--amount", "2.5", "--to", recipient], env);
    assert.deepEqual([minted.amount, minted.to], ["2500000", recipient]);
    assert.equal(await chain.balanceOf(recipient), before + 2_500_000n);
    assert.equal(minted.balance, (before + 2_500_000n).toString());

    const own = await cli(["mint", "--amount", "7"], env);
    assert.equal(own.code, 0, own.stderr);
    assert.match(own.stdout, new RegExp(`minted:\\s+7 USDC to ${chain.account(0).address}`));

    for (const amount of ["-1", "1.0000001", "0", "1e6"]) {
      const refused = await cli(["mint", "--amount", amount], env);
      assert.equal(refused.code, 2, `${amount}: ${refused.stderr}`);
    }
    assert.equal(await chain.balanceOf(recipient), before + 2_500_000n, "nothing more minted");
  });

  it("needs the key from TOLLGATE_PRIVATE_KEY, and never echoes a malformed one", async () => {
    const missing = await cli(["deploy"], { TOLLGATE_RPC_URL: chain.rpcUrl });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /set TOLLGATE_PRIVATE_KEY/);

    const secretish = `0x${"ab".repeat(31)}zz`;
    const malformed = await cli(["deploy", "--json"], { TOLLGATE_RPC_URL: chain.rpcUrl, TOLLGATE_PRIVATE_KEY: secretish });
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /TOLLGATE_PRIVATE_KEY is not a private key/);
    assert.ok(!malformed.stderr.includes(secretish.slice(2, 40)) && !malformed.stdout.includes(secretish.slice(2, 40)));
    assert.equal((JSON.parse(malformed.stdout) as { error: { kind: string } }).error.kind, "usage");

    const asFlag = await cli(["deploy", "--private-key", privateKeyOf(chain.account(0))], env);
    assert.equal(asFlag.code, 2, "there is no key flag");
    assert.ok(!asFlag.stderr.includes(privateKeyOf(chain.account(0)).slice(2)), "not even an unknown flag's value is echoed");
  });

  it("exits 2 for usage errors: unknown command or flag, --escrow on deploy, a chain id the node is not on", async () => {
    assert.equal((await cli(["frobnicate"])).code, 2);
    assert.equal((await cli(["channels", "--frobnicate"])).code, 2);
    assert.equal((await cli([])).code, 2);
    const escrow = await cli(["deploy", "--escrow", chain.escrow], env);
    assert.equal(escrow.code, 2);
    const wrongChain = await cli(["channels", "--payer", chain.account(1).address, "--chain-id", "8453"], env);
    assert.equal(wrongChain.code, 2);
    assert.match(wrongChain.stderr, /--chain-id 8453, but the node at http:\/\/127\.0\.0\.1:\d+ is on chain 31337/);
    const noRpc = await cli(["channels", "--payer", chain.account(1).address]);
    assert.equal(noRpc.code, 2);
    assert.match(noRpc.stderr, /--rpc-url/);
  });

  it("exits 4 when the RPC node cannot be reached, with a JSON error under --json", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const listing = await cli(["channels", "--payer", chain.account(1).address, "--rpc-url", dead, "--json"]);
    assert.equal(listing.code, 4, listing.stderr);
    assert.match(listing.stderr, /cannot reach the RPC node/);
    assert.deepEqual(Object.keys((JSON.parse(listing.stdout) as { error: object }).error), ["kind", "exitCode", "message"]);
    assert.equal((JSON.parse(listing.stdout) as { error: { kind: string } }).error.kind, "unreachable");
    const deploy = await cli(["deploy"], { ...env, TOLLGATE_RPC_URL: dead });
    assert.equal(deploy.code, 4);
    assert.doesNotMatch(deploy.stderr, /\n\s+at /, "no stack trace");
  });

  it("exits 5 when there is no contract at --escrow", async () => {
    const nowhere = await cliJson<{ error: { kind: string; message: string } }>(
      ["channels", "--payer", chain.account(1).address, "--escrow", chain.account(5).address],
      env,
      5,
    );
    assert.equal(nowhere.error.kind, "not-found");
    assert.match(nowhere.error.message, /no contract at escrow/);
  });

  it("documents commands, exit codes and the demo's limits in --help", async () => {
    const help = await cli(["--help"]);
    assert.equal(help.code, 0);
    for (const command of ["deploy", "mint", "channels", "open", "top-up", "close", "request-close", "withdraw", "usage", "demo"]) {
      assert.match(help.stdout, new RegExp(`^  ${command} `, "m"));
    }
    for (const code of [0, 1, 2, 3, 4, 5, 6]) assert.match(help.stdout, new RegExp(`^  ${code}  `, "m"));
    assert.match(help.stdout, /TOLLGATE_PRIVATE_KEY/);
    const demo = await cli(["demo", "--help"]);
    assert.equal(demo.code, 0);
    assert.match(demo.stdout, /Only works inside a clone of the tollgate repository/);
    const close = await cli(["help", "close"]);
    assert.match(close.stdout, /--forfeit/);
  });
});
