// tollgate mint on a chain the CLI does not treat as local (a hardhat node on chain 1337): allowed only
// for a token whose code has mint(address,uint256), refused before anything is sent otherwise.
import assert from "node:assert/strict";
import { createWalletClient, http } from "viem";
import { type LocalChain, startLocalChain } from "../../scripts/localChain.js";
import { mockStablecoinAbi } from "../../sdk/src/generated/mockStablecoinAbi.js";
import { mockStablecoinBytecode } from "../../sdk/src/generated/mockStablecoinBytecode.js";
import { cli, cliJson, privateKeyOf, skipUnderCoverage } from "./helpers.js";

describe("tollgate CLI: mint on a chain that is not local", function () {
  this.timeout(90_000);
  let chain: LocalChain;
  let env: Record<string, string>;

  before(async function () {
    skipUnderCoverage(this);
    chain = await startLocalChain({ deploy: false, chainId: 1337 });
    env = { TOLLGATE_RPC_URL: chain.rpcUrl, TOLLGATE_PRIVATE_KEY: privateKeyOf(chain.account(0)) };
  });

  after(async () => {
    await chain?.stop();
  });

  it("test_cli_mint_notLocalChain_refusedUnlessTheTokenHasMint", async () => {
    const wallet = createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl), account: chain.account(0) });
    const hash = await wallet.deployContract({ abi: mockStablecoinAbi, bytecode: mockStablecoinBytecode, args: ["Test USD", "TUSD"] });
    const token = (await chain.publicClient.waitForTransactionReceipt({ hash })).contractAddress!;
    // A contract without mint(address,uint256): one STOP opcode.
    const mintless = "0x00000000000000000000000000000000000f00d5";
    await chain.publicClient.request({ method: "hardhat_setCode" as never, params: [mintless, "0x00"] as never });
    const nonce = await chain.publicClient.getTransactionCount({ address: chain.account(0).address });

    const refused = await cli(["mint", "--amount", "1", "--token", mintless], env);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /chain 1337 is not a local chain and the token 0x0+f00d5 has no mint\(address,uint256\)/i);
    const noDefault = await cli(["mint", "--amount", "1"], env);
    assert.equal(noDefault.code, 2, noDefault.stderr);
    assert.match(noDefault.stderr, /no test token bundled for chain 1337: pass --token/);
    assert.equal(await chain.publicClient.getTransactionCount({ address: chain.account(0).address }), nonce, "nothing sent");

    const minted = await cliJson<{ amount: string; chainId: number }>(["mint", "--amount", "3.25", "--token", token], env);
    assert.deepEqual([minted.chainId, minted.amount], [1337, "3250000"]);
  });
});
