import assert from "node:assert/strict";
import { network } from "hardhat";
import { createPublicClient, erc20Abi, getAddress, type Hex, http, zeroAddress } from "viem";
import {
  closeChannel,
  closeChannelWithAuthorization,
  computeChannelId,
  computeOpenNonce,
  computeTopUpNonce,
  ContractRevertedError,
  getChannel,
  getTokenDomain,
  openChannel,
  openChannelWithAuthorization,
  requestChannelClose,
  settleChannel,
  settleChannelBatch,
  settleChannelWithAuthorization,
  signCloseAuthorization,
  signOpenAuthorization,
  signSettleAuthorization,
  signTopUpAuthorization,
  signVoucher,
  tollgateEscrowAbi,
  topUpChannel,
  topUpChannelWithAuthorization,
  TransactionOutcomeUnknownError,
  TransactionReplacedError,
  waitForTransactionOutcome,
  withdrawChannel,
} from "../../sdk/src/index.js";
import { deployTollgate, fundedAccount, pseudoRandomHex, USDC } from "./fixtures.js";

const { viem, networkHelpers, provider } = await network.create();

async function setUp() {
  const deployment = await deployTollgate(viem);
  const chain = deployment.publicClient.chain;
  const [payer, payee, relayer] = await Promise.all(
    ["payer", "payee", "relayer"].map((label) => fundedAccount({ label, provider, chain, networkHelpers })),
  );
  await deployment.token.write.mint([payer!.account.address, 1_000n * USDC]);
  return { ...deployment, payer: payer!, payee: payee!, relayer: relayer! };
}

/** Expects a final ContractRevertedError carrying the escrow's (or token's) custom error. */
async function assertReverts(promise: Promise<unknown>, errorName: string, args?: readonly unknown[]): Promise<ContractRevertedError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ContractRevertedError, `expected ContractRevertedError, got ${String(error)}`);
    assert.equal(error.errorName, errorName);
    if (args !== undefined) assert.deepEqual(error.args, args);
    return error;
  }
  assert.fail(`expected a revert with ${errorName}`);
}

describe("escrow transactions", () => {
  it("openChannel approves exactly the shortfall-covering deposit, opens, and reports the contract's channel id", async () => {
    const { publicClient, escrow, token, chainId, payer, payee } = await networkHelpers.loadFixture(setUp);
    const salt = pseudoRandomHex("salt", 1);
    // A standing allowance below the deposit: approve() overwrites, so the SDK approves the deposit itself.
    await payer.client.writeContract({ address: token.address, abi: erc20Abi, functionName: "approve", args: [escrow.address, 3n * USDC] });

    const opened = await openChannel({
      client: payer.client,
      escrow: escrow.address,
      payee: payee.account.address,
      token: token.address,
      deposit: 10n * USDC,
      salt,
    });

    assert.ok(opened.approval !== null);
    assert.equal(opened.approval.receipt.status, "success");
    const parties = { payer: payer.account.address, payee: payee.account.address, token: token.address, salt };
    assert.equal(opened.channelId, computeChannelId({ chainId, escrow: escrow.address, ...parties }));
    assert.equal(opened.channelId, await escrow.read.computeChannelId([parties.payer, parties.payee, parties.token, salt, zeroAddress]));
    assert.equal(await token.read.allowance([payer.account.address, escrow.address]), 0n, "no allowance left behind");
    assert.equal(await token.read.balanceOf([escrow.address]), 10n * USDC);
    assert.deepEqual(await getChannel({ client: publicClient, escrow: escrow.address, channelId: opened.channelId }), {
      payer: payer.account.address,
      payee: payee.account.address,
      token: getAddress(token.address),
      authorizedSigner: zeroAddress,
      deposit: 10n * USDC,
      settled: 0n,
      closeRequestedAt: 0n,
      finalized: false,
    });
  });

  it("openChannel skips the approval when the allowance already covers the deposit", async () => {
    const { escrow, token, payer, payee } = await networkHelpers.loadFixture(setUp);
    await payer.client.writeContract({ address: token.address, abi: erc20Abi, functionName: "approve", args: [escrow.address, 25n * USDC] });
    const { approval } = await openChannel({
      client: payer.client,
      escrow: escrow.address,
      payee: payee.account.address,
      token: token.address,
      deposit: 10n * USDC,
      salt: pseudoRandomHex("salt", 2),
    });
    assert.equal(approval, null);
    assert.equal(await token.read.allowance([payer.account.address, escrow.address]), 15n * USDC);
  });

  it("getChannel answers null for a channel that was never opened", async () => {
    const { publicClient, escrow } = await networkHelpers.loadFixture(setUp);
    assert.equal(await getChannel({ client: publicClient, escrow: escrow.address, channelId: pseudoRandomHex("unknown", 0) }), null);
  });

  it("rejects in simulation with the decoded custom error, sending nothing", async () => {
    const { publicClient, escrow, token, payer, payee } = await networkHelpers.loadFixture(setUp);
    const nonce = await publicClient.getTransactionCount({ address: payer.account.address });
    const open = (deposit: bigint) =>
      openChannel({ client: payer.client, escrow: escrow.address, payee: payee.account.address, token: token.address, deposit, salt: pseudoRandomHex("salt", 3) });
    // The token's own error, passed through SafeERC20, decodes too.
    const error = await assertReverts(open(2_000n * USDC), "ERC20InsufficientBalance", [payer.account.address, 1_000n * USDC, 2_000n * USDC]);
    assert.equal(error.hash, undefined, "simulation only");
    await assertReverts(
      openChannel({ client: payer.client, escrow: escrow.address, payee: zeroAddress, token: token.address, deposit: 1n, salt: pseudoRandomHex("salt", 3) }),
      "InvalidPayee",
      [zeroAddress],
    );
    // Only the approval of the first attempt was sent; both opens stopped at simulation.
    assert.equal(await publicClient.getTransactionCount({ address: payer.account.address }), nonce + 1);
  });

  describe("on an open channel", () => {
    async function openedChannel() {
      const fixture = await setUp();
      const { channelId } = await openChannel({
        client: fixture.payer.client,
        escrow: fixture.escrow.address,
        payee: fixture.payee.account.address,
        token: fixture.token.address,
        deposit: 100n * USDC,
        salt: pseudoRandomHex("salt", 10),
      });
      const sign = (cumulativeAmount: bigint) =>
        signVoucher({ account: fixture.payer.account, chainId: fixture.chainId, escrow: fixture.escrow.address, channelId, cumulativeAmount });
      const channel = () => getChannel({ client: fixture.publicClient, escrow: fixture.escrow.address, channelId });
      return { ...fixture, channelId, sign, channel };
    }

    it("settleChannel pays the payee the difference, and a stale voucher is a final AmountNotIncreasing", async () => {
      const { escrow, token, payee, channelId, sign, channel } = await networkHelpers.loadFixture(openedChannel);
      const settle = async (cumulativeAmount: bigint) =>
        settleChannel({ client: payee.client, escrow: escrow.address, channelId, cumulativeAmount, signature: await sign(cumulativeAmount) });

      await settle(30n * USDC);
      await settle(45n * USDC);
      assert.equal(await token.read.balanceOf([payee.account.address]), 45n * USDC);
      assert.equal((await channel())!.settled, 45n * USDC);
      await assertReverts(settle(45n * USDC), "AmountNotIncreasing", [45n * USDC, 45n * USDC]);
      await assertReverts(settle(101n * USDC), "AmountExceedsDeposit", [101n * USDC, 100n * USDC]);
    });

    it("topUpChannel approves exactly the top-up, raises the deposit and cancels a pending close", async () => {
      const { escrow, token, payer, channelId, channel } = await networkHelpers.loadFixture(openedChannel);
      await requestChannelClose({ client: payer.client, escrow: escrow.address, channelId });
      assert.ok((await channel())!.closeRequestedAt > 0n);

      const { approval } = await topUpChannel({ client: payer.client, escrow: escrow.address, channelId, additionalDeposit: 7n * USDC });
      assert.ok(approval !== null);
      const after = (await channel())!;
      assert.equal(after.deposit, 107n * USDC);
      assert.equal(after.closeRequestedAt, 0n);
      assert.equal(await token.read.allowance([payer.account.address, escrow.address]), 0n);
    });

    it("topUpChannel on an unknown channel is a final ChannelNotFound, with no approval sent", async () => {
      const { publicClient, escrow, payer } = await networkHelpers.loadFixture(openedChannel);
      const nonce = await publicClient.getTransactionCount({ address: payer.account.address });
      const channelId = pseudoRandomHex("unknown", 1);
      await assertReverts(topUpChannel({ client: payer.client, escrow: escrow.address, channelId, additionalDeposit: 1n }), "ChannelNotFound", [channelId]);
      assert.equal(await publicClient.getTransactionCount({ address: payer.account.address }), nonce);
    });

    it("closeChannel settles the final voucher, refunds the rest and finalizes", async () => {
      const { escrow, token, payer, payee, channelId, sign, channel } = await networkHelpers.loadFixture(openedChannel);
      const payerBefore = await token.read.balanceOf([payer.account.address]);
      await closeChannel({ client: payee.client, escrow: escrow.address, channelId, cumulativeAmount: 60n * USDC, signature: await sign(60n * USDC) });
      assert.equal(await token.read.balanceOf([payee.account.address]), 60n * USDC);
      assert.equal(await token.read.balanceOf([payer.account.address]), payerBefore + 40n * USDC);
      assert.equal((await channel())!.finalized, true);
      await assertReverts(
        closeChannel({ client: payee.client, escrow: escrow.address, channelId, cumulativeAmount: 0n }),
        "ChannelFinalized",
        [channelId],
      );
    });

    it("closeChannel without a signature forfeits: everything unsettled goes back to the payer", async () => {
      const { escrow, token, payer, payee, channelId } = await networkHelpers.loadFixture(openedChannel);
      const payerBefore = await token.read.balanceOf([payer.account.address]);
      await closeChannel({ client: payee.client, escrow: escrow.address, channelId, cumulativeAmount: 0n });
      assert.equal(await token.read.balanceOf([payer.account.address]), payerBefore + 100n * USDC);
      assert.equal(await token.read.balanceOf([payee.account.address]), 0n);
    });

    it("requestChannelClose then withdrawChannel: refused during the grace period, refunds after it", async () => {
      const { escrow, token, payer, channelId, channel } = await networkHelpers.loadFixture(openedChannel);
      await requestChannelClose({ client: payer.client, escrow: escrow.address, channelId });
      const requestedAt = (await channel())!.closeRequestedAt;
      const gracePeriod = await escrow.read.CLOSE_GRACE_PERIOD();
      await assertReverts(withdrawChannel({ client: payer.client, escrow: escrow.address, channelId }), "CloseNotReady");

      await networkHelpers.time.increaseTo(requestedAt + gracePeriod);
      const payerBefore = await token.read.balanceOf([payer.account.address]);
      await withdrawChannel({ client: payer.client, escrow: escrow.address, channelId });
      assert.equal(await token.read.balanceOf([payer.account.address]), payerBefore + 100n * USDC);
      assert.equal((await channel())!.finalized, true);
    });

    it("settleChannelBatch redeems vouchers of several channels in one transfer", async () => {
      const { escrow, token, payer, payee, channelId, sign, publicClient } = await networkHelpers.loadFixture(openedChannel);
      const second = await openChannel({
        client: payer.client,
        escrow: escrow.address,
        payee: payee.account.address,
        token: token.address,
        deposit: 5n * USDC,
        salt: pseudoRandomHex("salt", 11),
      });
      const chainId = await publicClient.getChainId();
      const claims = [
        { channelId, cumulativeAmount: 12n * USDC, signature: await sign(12n * USDC) },
        {
          channelId: second.channelId,
          cumulativeAmount: 5n * USDC,
          signature: await signVoucher({ account: payer.account, chainId, escrow: escrow.address, channelId: second.channelId, cumulativeAmount: 5n * USDC }),
        },
      ];
      const { amount } = await settleChannelBatch({ client: payee.client, escrow: escrow.address, token: token.address, claims });
      assert.equal(amount, 17n * USDC);
      assert.equal(await token.read.balanceOf([payee.account.address]), 17n * USDC);
      await assertReverts(settleChannelBatch({ client: payee.client, escrow: escrow.address, token: token.address, claims }), "AmountNotIncreasing");
    });

    it("relayed settle and close on the payee's signed authorizations; nonces are single-use and deadlines bind", async () => {
      const { escrow, token, payee, relayer, channelId, sign, chainId, channel } = await networkHelpers.loadFixture(openedChannel);
      const now = BigInt(await networkHelpers.time.latest());
      const fields = { account: payee.account, chainId, escrow: escrow.address, channelId };

      const settleAuthorization = { cumulativeAmount: 20n * USDC, nonce: 1n, deadline: now + 600n };
      const settleArgs = {
        client: relayer.client,
        escrow: escrow.address,
        channelId,
        ...settleAuthorization,
        payeeSignature: await signSettleAuthorization({ ...fields, ...settleAuthorization }),
        voucherSignature: await sign(20n * USDC),
      };
      await settleChannelWithAuthorization(settleArgs);
      assert.equal(await token.read.balanceOf([payee.account.address]), 20n * USDC);
      assert.equal(await escrow.read.isPayeeNonceUsed([payee.account.address, channelId, 1n]), true);
      await assertReverts(settleChannelWithAuthorization(settleArgs), "NonceAlreadyUsed", [payee.account.address, channelId, 1n]);

      const expired = { cumulativeAmount: 30n * USDC, nonce: 2n, deadline: now - 1n };
      await assertReverts(
        closeChannelWithAuthorization({
          client: relayer.client,
          escrow: escrow.address,
          channelId,
          ...expired,
          payeeSignature: await signCloseAuthorization({ ...fields, ...expired }),
          voucherSignature: await sign(30n * USDC),
        }),
        "AuthorizationExpired",
      );
      // A settle authorization does not work as a close authorization: the typehashes differ.
      const closeAuthorization = { cumulativeAmount: 30n * USDC, nonce: 3n, deadline: now + 600n };
      const closeArgs = {
        client: relayer.client,
        escrow: escrow.address,
        channelId,
        ...closeAuthorization,
        voucherSignature: await sign(30n * USDC),
      };
      await assertReverts(
        closeChannelWithAuthorization({ ...closeArgs, payeeSignature: await signSettleAuthorization({ ...fields, ...closeAuthorization }) }),
        "InvalidSignature",
        [payee.account.address],
      );
      await closeChannelWithAuthorization({ ...closeArgs, payeeSignature: await signCloseAuthorization({ ...fields, ...closeAuthorization }) });
      assert.equal(await token.read.balanceOf([payee.account.address]), 30n * USDC);
      assert.equal((await channel())!.finalized, true);
    });
  });

  describe("EIP-3009 funding (feePayer: true)", () => {
    it("reads the mock's EIP-712 domain from eip712Domain(): its version is 1, not USDC's 2", async () => {
      const { publicClient, token, chainId } = await networkHelpers.loadFixture(setUp);
      assert.deepEqual(await getTokenDomain({ client: publicClient, token: token.address }), {
        name: "USD Coin",
        version: "1",
        chainId,
        verifyingContract: getAddress(token.address),
      });
    });

    it("falls back to name() and USDC's version 2 for a token without eip712Domain() or version()", async () => {
      const { publicClient, chainId } = await networkHelpers.loadFixture(setUp);
      const plain = await viem.deployContract("FalseReturningToken");
      assert.deepEqual(await getTokenDomain({ client: publicClient, token: plain.address }), {
        name: "False Token",
        version: "2",
        chainId,
        verifyingContract: getAddress(plain.address),
      });
    });

    it("does not guess a token domain when the node cannot be reached", async () => {
      const { token } = await networkHelpers.loadFixture(setUp);
      const unreachable = createPublicClient({ transport: http("http://127.0.0.1:9", { retryCount: 0, timeout: 2_000 }) });
      await assert.rejects(getTokenDomain({ client: unreachable, token: token.address }), /HTTP request failed|fetch failed/);
    });

    it("openChannelWithAuthorization: the payer signs, the relayer pays the gas; the derived nonce binds the parameters", async () => {
      const { publicClient, escrow, token, payer, payee, relayer } = await networkHelpers.loadFixture(setUp);
      const tokenDomain = await getTokenDomain({ client: publicClient, token: token.address });
      const salt = pseudoRandomHex("salt", 20);
      const validBefore = BigInt(await networkHelpers.time.latest()) + 3600n;
      const authorization = await signOpenAuthorization({
        account: payer.account,
        tokenDomain,
        escrow: escrow.address,
        payee: payee.account.address,
        deposit: 50n * USDC,
        salt,
        validBefore,
      });
      assert.equal(authorization.nonce, computeOpenNonce({ from: payer.account.address, payee: payee.account.address, token: token.address, salt }));
      const submit = (salt: Hex) =>
        openChannelWithAuthorization({ client: relayer.client, escrow: escrow.address, payee: payee.account.address, token: token.address, salt, authorization });

      // Replaying the authorization with another salt: the escrow recomputes the nonce and refuses.
      const otherSalt = pseudoRandomHex("salt", 21);
      await assertReverts(submit(otherSalt), "NonceMismatch", [
        computeOpenNonce({ from: payer.account.address, payee: payee.account.address, token: token.address, salt: otherSalt }),
        authorization.nonce,
      ]);

      const payerEther = await publicClient.getBalance({ address: payer.account.address });
      const { channelId } = await submit(salt);
      const channel = (await getChannel({ client: publicClient, escrow: escrow.address, channelId }))!;
      assert.equal(channel.payer, payer.account.address);
      assert.equal(channel.deposit, 50n * USDC);
      assert.equal(await publicClient.getBalance({ address: payer.account.address }), payerEther, "the payer paid no gas");
    });

    it("topUpChannelWithAuthorization adds funds under a nonce derived from channel, amount, funder and salt", async () => {
      const { publicClient, escrow, token, payer, payee, relayer } = await networkHelpers.loadFixture(setUp);
      const { channelId } = await openChannel({
        client: payer.client,
        escrow: escrow.address,
        payee: payee.account.address,
        token: token.address,
        deposit: 10n * USDC,
        salt: pseudoRandomHex("salt", 30),
      });
      const tokenDomain = await getTokenDomain({ client: publicClient, token: token.address });
      const topUpSalt = pseudoRandomHex("top-up", 0);
      const authorization = await signTopUpAuthorization({
        account: payer.account,
        tokenDomain,
        escrow: escrow.address,
        channelId,
        additionalDeposit: 4n * USDC,
        topUpSalt,
        validBefore: BigInt(await networkHelpers.time.latest()) + 3600n,
      });
      const otherSalt = pseudoRandomHex("top-up", 1);
      await assertReverts(
        topUpChannelWithAuthorization({ client: relayer.client, escrow: escrow.address, channelId, topUpSalt: otherSalt, authorization }),
        "NonceMismatch",
        [computeTopUpNonce({ channelId, additionalDeposit: 4n * USDC, from: payer.account.address, topUpSalt: otherSalt }), authorization.nonce],
      );
      await topUpChannelWithAuthorization({ client: relayer.client, escrow: escrow.address, channelId, topUpSalt, authorization });
      assert.equal((await getChannel({ client: publicClient, escrow: escrow.address, channelId }))!.deposit, 14n * USDC);
      // The token marks the authorization used: the same signature cannot fund twice.
      await assertReverts(
        topUpChannelWithAuthorization({ client: relayer.client, escrow: escrow.address, channelId, topUpSalt, authorization }),
        "AuthorizationAlreadyUsed",
        [payer.account.address, authorization.nonce],
      );
    });
  });

  describe("transaction outcomes", () => {
    async function withoutAutomine<T>(run: () => Promise<T>): Promise<T> {
      await provider.request({ method: "evm_setAutomine", params: [false] });
      try {
        return await run();
      } finally {
        await provider.request({ method: "evm_setAutomine", params: [true] });
      }
    }

    it("a mined revert is a final ContractRevertedError with the custom error, the hash and the receipt", async () => {
      const { publicClient, escrow, payee, payer, token } = await networkHelpers.loadFixture(setUp);
      const { channelId } = await openChannel({
        client: payer.client,
        escrow: escrow.address,
        payee: payee.account.address,
        token: token.address,
        deposit: 10n * USDC,
        salt: pseudoRandomHex("salt", 40),
      });
      await withoutAutomine(async () => {
        // Sent with a fixed gas limit, so no estimate stops it: a bad signature, mined and reverted.
        const hash = await payee.client.writeContract({
          address: escrow.address,
          abi: tollgateEscrowAbi,
          functionName: "settle",
          args: [channelId, 1n, `0x${"11".repeat(65)}`],
          gas: 300_000n,
        });
        await networkHelpers.mine();
        const error = await assertReverts(waitForTransactionOutcome({ client: publicClient, hash }), "InvalidSignature", [payer.account.address]);
        assert.equal(error.hash, hash);
        assert.equal(error.receipt?.status, "reverted");
      });
    });

    it("no receipt within the bound is an unknown outcome, not a failure; the same hash later resolves", async () => {
      const { publicClient, escrow, payer, payee, token } = await networkHelpers.loadFixture(setUp);
      const { channelId } = await openChannel({
        client: payer.client,
        escrow: escrow.address,
        payee: payee.account.address,
        token: token.address,
        deposit: 10n * USDC,
        salt: pseudoRandomHex("salt", 41),
      });
      await withoutAutomine(async () => {
        const hash = await payer.client.writeContract({ address: escrow.address, abi: tollgateEscrowAbi, functionName: "requestClose", args: [channelId] });
        const started = Date.now();
        await assert.rejects(waitForTransactionOutcome({ client: publicClient, hash, timeout: 400 }), (error: unknown) => {
          assert.ok(error instanceof TransactionOutcomeUnknownError);
          assert.equal(error.code, "OUTCOME_UNKNOWN");
          assert.equal(error.hash, hash);
          return true;
        });
        assert.ok(Date.now() - started < 5_000, "the bound is honoured");
        await networkHelpers.mine();
        const receipt = await waitForTransactionOutcome({ client: publicClient, hash, timeout: 5_000 });
        assert.equal(receipt.status, "success");
      });
    });

    it("a transaction cancelled by a same-nonce replacement is a final TransactionReplacedError", async () => {
      const { publicClient, escrow, payer, payee, token } = await networkHelpers.loadFixture(setUp);
      const { channelId } = await openChannel({
        client: payer.client,
        escrow: escrow.address,
        payee: payee.account.address,
        token: token.address,
        deposit: 10n * USDC,
        salt: pseudoRandomHex("salt", 42),
      });
      await withoutAutomine(async () => {
        const nonce = await publicClient.getTransactionCount({ address: payer.account.address });
        const gasPrice = await publicClient.getGasPrice();
        const hash = await payer.client.writeContract({
          address: escrow.address,
          abi: tollgateEscrowAbi,
          functionName: "requestClose",
          args: [channelId],
          nonce,
          gasPrice,
        });
        const outcome = waitForTransactionOutcome({ client: publicClient, hash, timeout: 10_000 });
        outcome.catch(() => {});
        // Let the waiter see the pending transaction (and learn its nonce) before it is replaced.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await payer.client.sendTransaction({ to: payer.account.address, value: 0n, nonce, gasPrice: gasPrice * 2n });
        await networkHelpers.mine();
        await assert.rejects(outcome, (error: unknown) => {
          assert.ok(error instanceof TransactionReplacedError, String(error));
          assert.equal(error.hash, hash);
          assert.notEqual(error.replacement.transactionHash, hash);
          return true;
        });
        assert.equal((await getChannel({ client: publicClient, escrow: escrow.address, channelId }))!.closeRequestedAt, 0n);
      });
    });

    it("works with Hardhat's node-managed accounts too (eth_sendTransaction)", async () => {
      const { publicClient, escrow, token, payee } = await networkHelpers.loadFixture(setUp);
      const [wallet] = await viem.getWalletClients();
      await token.write.mint([wallet!.account.address, 10n * USDC]);
      const { channelId, approval } = await openChannel({
        client: wallet!,
        publicClient,
        escrow: escrow.address,
        payee: payee.account.address,
        token: token.address,
        deposit: 10n * USDC,
        salt: pseudoRandomHex("salt", 43),
      });
      assert.ok(approval !== null);
      assert.equal((await getChannel({ client: publicClient, escrow: escrow.address, channelId }))!.payer, getAddress(wallet!.account.address));
    });
  });
});
