// The Permit2 the charge tests run against is Uniswap's real contract, taken from @uniswap/v4-periphery's
// compiled DeployPermit2 helper (test/helpers/permit2.ts): its domain is Permit2's, a permit signed with
// the charge's payment witness moves tokens once through it, and a wrong witness does not.
import assert from "node:assert/strict";
import { createWalletClient, erc20Abi, http } from "viem";
import { PERMIT2_ADDRESS, permit2Abi } from "../../sdk/src/authorization/permit2Abi.js";
import { signPermit2Transfer } from "../../sdk/src/authorization/signPermit2Transfer.js";
import { permit2Domain } from "../../sdk/src/protocol/permit2.js";
import { permitWitnessTransferFrom } from "../../sdk/src/transactions/permitWitnessTransferFrom.js";
import { ContractRevertedError } from "../../sdk/src/errors/ContractRevertedError.js";
import { type LocalChain, startLocalChain } from "../../scripts/localChain.js";
import { installPermit2, permit2Runtime } from "../helpers/permit2.js";

describe("Permit2 on the local chain", function () {
  this.timeout(60_000);
  let chain: LocalChain;
  before(async () => {
    chain = await startLocalChain();
  });
  after(async () => {
    await chain?.stop();
  });

  it("test_permit2_helperInstallsUniswapsPermit2AndASignedWitnessTransferMovesTokens", async () => {
    assert.equal(await installPermit2(chain), PERMIT2_ADDRESS, "DOMAIN_SEPARATOR() is Permit2's domain on this chain");
    const installed = (await chain.publicClient.getCode({ address: PERMIT2_ADDRESS }))!;
    const runtime = await permit2Runtime(chain);
    assert.equal(installed.length, runtime.length);
    assert.equal([...installed].filter((digit, index) => digit !== runtime[index]).length <= 128, true, "only the two 32-byte domain immutables differ");
    const owner = chain.account(3);
    const spender = chain.account(4);
    const to = chain.account(5).address;
    await chain.mint(owner.address, 1_000n);
    const ownerWallet = createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl), account: owner });
    await chain.publicClient.waitForTransactionReceipt({ hash: await ownerWallet.writeContract({ address: chain.token, abi: erc20Abi, functionName: "approve", args: [PERMIT2_ADDRESS, 1_000n] }) });
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 600);
    const witness = { challengeHash: `0x${"ab".repeat(32)}` as const, externalId: "order-7" };
    const domain = permit2Domain({ chainId: chain.chain.id, permit2: PERMIT2_ADDRESS });
    const payload = await signPermit2Transfer({ account: owner, domain, spender: spender.address, token: chain.token, amount: 250n, to, nonce: 77n, deadline, witness });
    const client = createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl), account: spender });
    const options = { client, publicClient: chain.publicClient, permit2: PERMIT2_ADDRESS, owner: owner.address };

    const wrongWitness = { ...payload, witness: { ...witness, externalId: "order-8" } };
    await assert.rejects(permitWitnessTransferFrom({ ...options, payload: wrongWitness }), ContractRevertedError, "the witness is part of what was signed");
    await permitWitnessTransferFrom({ ...options, payload });
    assert.equal(await chain.balanceOf(to), 250n);
    assert.equal(await chain.balanceOf(owner.address), 750n);
    assert.equal(await chain.publicClient.readContract({ address: PERMIT2_ADDRESS, abi: permit2Abi, functionName: "nonceBitmap", args: [owner.address, 0n] }), 1n << 77n);
    await assert.rejects(permitWitnessTransferFrom({ ...options, payload }), ContractRevertedError, "a nonce moves tokens once");
  });
});
