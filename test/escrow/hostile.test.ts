// Tokens that do not behave: fee-on-transfer, false-returning, silently skipping, and reentrant.
import assert from "node:assert/strict";
import { network } from "hardhat";
import type { Address, Hex } from "viem";
import { decodeErrorResult, encodeFunctionData, getAddress, maxUint256, size, slice, toFunctionSelector } from "viem";
import {
  USDC,
  ZERO,
  deployEscrowWorld,
  keyOf,
  nextSalt,
  openNonce,
  signPayeeAuthorization,
  signReceiveAuthorization,
  signVoucher,
  topUpNonce,
  type EscrowWorld,
} from "./helpers.js";

const { viem, networkHelpers } = await network.create();

async function hostileWorld() {
  const w = await deployEscrowWorld(viem);
  const fee = await viem.deployContract("FeeOnTransferToken");
  const feeStable = await viem.deployContract("FeeOnTransferStablecoin");
  const falsy = await viem.deployContract("FalseReturningToken");
  const noop = await viem.deployContract("NoopTransferToken");
  const reentrant = await viem.deployContract("ReentrantToken");
  const fund = async (t: { write: { mint: Function; approve: Function } }) => {
    await t.write.mint([w.payer.account.address, 1_000_000n * USDC]);
    await t.write.approve([w.escrow.address, maxUint256], { account: w.payer.account });
  };
  for (const t of [fee, feeStable, falsy, noop, reentrant]) await fund(t);
  return { ...w, fee, feeStable, falsy, noop, reentrant };
}

type HostileWorld = Awaited<ReturnType<typeof hostileWorld>>;

function voucherFor(w: EscrowWorld, channelId: Hex, amount: bigint) {
  return signVoucher(keyOf(w.payer.account.address), w.escrow.address, channelId, amount);
}

/** The revert data the reentrant token recorded, decoded against the escrow's ABI. */
async function recordedReentry(w: HostileWorld) {
  const succeeded = await w.reentrant.read.reentrySucceeded();
  const data = await w.reentrant.read.reentryResult();
  return { succeeded, data, error: size(data) >= 4 ? decodeErrorResult({ abi: w.escrow.abi, data }) : undefined };
}

describe("TollgateEscrow with hostile tokens", () => {
  describe("fee-on-transfer", () => {
    it("test_open_reverts_TransferAmountMismatch_for_fee_on_transfer_token", async () => {
      const w = await networkHelpers.loadFixture(hostileWorld);
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.open([w.payee.account.address, w.fee.address, 1_000n, nextSalt(), ZERO], {
          account: w.payer.account,
        }),
        w.escrow,
        "TransferAmountMismatch",
        [1_000n, 990n],
      );
    });

    it("test_topUp_reverts_TransferAmountMismatch_for_fee_on_transfer_token", async () => {
      const w = await networkHelpers.loadFixture(hostileWorld);
      // Below 100 base units the token's 1% fee rounds to zero, so the open itself goes through.
      const c = await w.openChannel({ token: w.fee.address, deposit: 99n });
      assert.equal(await w.fee.read.balanceOf([w.escrow.address]), 99n);
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.topUp([c.channelId, 10_000n], { account: w.payer.account }),
        w.escrow,
        "TransferAmountMismatch",
        [10_000n, 9_900n],
      );
      assert.equal((await w.escrow.read.getChannel([c.channelId])).deposit, 99n);
    });

    it("test_openWithAuthorization_reverts_TransferAmountMismatch_for_fee_on_transfer_token", async () => {
      const w = await networkHelpers.loadFixture(hostileWorld);
      const from = getAddress(w.payer.account.address);
      const payee = getAddress(w.payee.account.address);
      const salt = nextSalt();
      const nonce = openNonce(from, payee, w.feeStable.address, salt, ZERO);
      const signature = await signReceiveAuthorization(keyOf(from), w.feeStable, {
        from,
        to: w.escrow.address,
        value: 5_000n,
        validAfter: 0n,
        validBefore: maxUint256,
        nonce,
      });
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.openWithAuthorization(
          [payee, w.feeStable.address, 5_000n, salt, ZERO, from, 0n, maxUint256, nonce, signature],
          { account: w.relayer.account },
        ),
        w.escrow,
        "TransferAmountMismatch",
        [5_000n, 4_950n],
      );
    });

    it("test_topUpWithAuthorization_reverts_TransferAmountMismatch_for_fee_on_transfer_token", async () => {
      const w = await networkHelpers.loadFixture(hostileWorld);
      const c = await w.openChannel({ token: w.feeStable.address, deposit: 50n });
      const from = getAddress(w.payer.account.address);
      const topUpSalt = nextSalt();
      const nonce = topUpNonce(c.channelId, 700n, from, topUpSalt);
      const signature = await signReceiveAuthorization(keyOf(from), w.feeStable, {
        from,
        to: w.escrow.address,
        value: 700n,
        validAfter: 0n,
        validBefore: maxUint256,
        nonce,
      });
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.topUpWithAuthorization([c.channelId, 700n, from, topUpSalt, 0n, maxUint256, nonce, signature], {
          account: w.relayer.account,
        }),
        w.escrow,
        "TransferAmountMismatch",
        [700n, 693n],
      );
    });
  });

  describe("token reporting success without paying", () => {
    it("test_open_reverts_TransferAmountMismatch_with_zero_received", async () => {
      const w = await networkHelpers.loadFixture(hostileWorld);
      await w.noop.write.setSkim([true]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.open([w.payee.account.address, w.noop.address, 500n, nextSalt(), ZERO], {
          account: w.payer.account,
        }),
        w.escrow,
        "TransferAmountMismatch",
        [500n, 0n],
      );
    });

    it("test_topUp_reverts_TransferAmountMismatch_with_zero_received", async () => {
      const w = await networkHelpers.loadFixture(hostileWorld);
      const c = await w.openChannel({ token: w.noop.address, deposit: 500n });
      await w.noop.write.setSkim([true]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.topUp([c.channelId, 1n], { account: w.payer.account }),
        w.escrow,
        "TransferAmountMismatch",
        [1n, 0n],
      );
    });
  });

  describe("false-returning", () => {
    async function falsyChannel(w: HostileWorld) {
      const c = await w.openChannel({ token: w.falsy.address, deposit: 100n });
      await w.falsy.write.setFail([true]);
      return c;
    }

    it("test_open_reverts_SafeERC20FailedOperation_when_transferFrom_returns_false", async () => {
      const w = await networkHelpers.loadFixture(hostileWorld);
      await w.falsy.write.setFail([true]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.open([w.payee.account.address, w.falsy.address, 100n, nextSalt(), ZERO], {
          account: w.payer.account,
        }),
        w.escrow,
        "SafeERC20FailedOperation",
        [w.falsy.address],
      );
    });

    it("test_topUp_reverts_SafeERC20FailedOperation_when_transferFrom_returns_false", async () => {
      const w = await networkHelpers.loadFixture(hostileWorld);
      const c = await falsyChannel(w);
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.topUp([c.channelId, 1n], { account: w.payer.account }),
        w.escrow,
        "SafeERC20FailedOperation",
        [w.falsy.address],
      );
      assert.equal((await w.escrow.read.getChannel([c.channelId])).deposit, 100n);
    });

    it("test_settle_reverts_SafeERC20FailedOperation_when_transfer_returns_false", async () => {
      const w = await networkHelpers.loadFixture(hostileWorld);
      const c = await falsyChannel(w);
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.settle([c.channelId, 10n, await voucherFor(w, c.channelId, 10n)], { account: w.payee.account }),
        w.escrow,
        "SafeERC20FailedOperation",
        [w.falsy.address],
      );
      assert.equal((await w.escrow.read.getChannel([c.channelId])).settled, 0n);
    });

    it("test_settleBatch_reverts_SafeERC20FailedOperation_when_transfer_returns_false", async () => {
      const w = await networkHelpers.loadFixture(hostileWorld);
      const c = await falsyChannel(w);
      const claims = [{ channelId: c.channelId, cumulativeAmount: 10n, signature: await voucherFor(w, c.channelId, 10n) }];
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.settleBatch([w.falsy.address, claims], { account: w.payee.account }),
        w.escrow,
        "SafeERC20FailedOperation",
        [w.falsy.address],
      );
    });

    it("test_close_reverts_SafeERC20FailedOperation_and_stays_open", async () => {
      const w = await networkHelpers.loadFixture(hostileWorld);
      const c = await falsyChannel(w);
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.close([c.channelId, 0n, "0x"], { account: w.payee.account }),
        w.escrow,
        "SafeERC20FailedOperation",
        [w.falsy.address],
      );
      assert.equal((await w.escrow.read.getChannel([c.channelId])).finalized, false);
    });

    it("test_withdraw_reverts_SafeERC20FailedOperation_and_stays_open", async () => {
      const w = await networkHelpers.loadFixture(hostileWorld);
      const c = await falsyChannel(w);
      await w.escrow.write.requestClose([c.channelId], { account: w.payer.account });
      await networkHelpers.time.increase(900);
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.withdraw([c.channelId], { account: w.payer.account }),
        w.escrow,
        "SafeERC20FailedOperation",
        [w.falsy.address],
      );
      assert.equal((await w.escrow.read.getChannel([c.channelId])).finalized, false);
      // Once the token pays again, the payer gets the refund.
      await w.falsy.write.setFail([false]);
      await w.escrow.write.withdraw([c.channelId], { account: w.payer.account });
      assert.equal(await w.falsy.read.balanceOf([w.escrow.address]), 0n);
    });
  });

  describe("reentrant", () => {
    /** Two live channels A and B in the reentrant token; B's close was requested and its grace period is over. */
    async function reentrantWorld() {
      const w = await hostileWorld();
      const a = await w.openChannel({ token: w.reentrant.address, deposit: 100n });
      const b = await w.openChannel({ token: w.reentrant.address, deposit: 100n });
      await w.escrow.write.requestClose([b.channelId], { account: w.payer.account });
      await networkHelpers.time.increase(900);
      return { ...w, a, b };
    }

    async function arm(w: HostileWorld, data: Hex) {
      await w.reentrant.write.arm([w.escrow.address, data]);
      assert.equal(await w.reentrant.read.armed(), true);
    }

    it("test_settle_reentered_from_token_fails_NotPayee", async () => {
      const w = await networkHelpers.loadFixture(reentrantWorld);
      const data = encodeFunctionData({
        abi: w.escrow.abi,
        functionName: "settle",
        args: [w.b.channelId, 10n, await voucherFor(w, w.b.channelId, 10n)],
      });
      await arm(w, data);
      await w.escrow.write.settle([w.a.channelId, 10n, await voucherFor(w, w.a.channelId, 10n)], {
        account: w.payee.account,
      });
      const r = await recordedReentry(w);
      assert.equal(await w.reentrant.read.armed(), false);
      assert.equal(r.succeeded, false);
      assert.equal(r.error?.errorName, "NotPayee");
      assert.deepEqual(r.error?.args, [getAddress(w.reentrant.address), w.b.payee]);
      assert.equal((await w.escrow.read.getChannel([w.b.channelId])).settled, 0n);
      assert.equal((await w.escrow.read.getChannel([w.a.channelId])).settled, 10n);
    });

    it("test_withdraw_reentered_from_token_fails_NotPayer", async () => {
      const w = await networkHelpers.loadFixture(reentrantWorld);
      await arm(w, encodeFunctionData({ abi: w.escrow.abi, functionName: "withdraw", args: [w.b.channelId] }));
      await w.escrow.write.settle([w.a.channelId, 10n, await voucherFor(w, w.a.channelId, 10n)], {
        account: w.payee.account,
      });
      const r = await recordedReentry(w);
      assert.equal(r.succeeded, false);
      assert.equal(r.error?.errorName, "NotPayer");
      assert.deepEqual(r.error?.args, [getAddress(w.reentrant.address), w.b.payer]);
      assert.equal((await w.escrow.read.getChannel([w.b.channelId])).finalized, false);
    });

    it("test_close_reentered_from_token_fails_NotPayee", async () => {
      const w = await networkHelpers.loadFixture(reentrantWorld);
      await arm(w, encodeFunctionData({ abi: w.escrow.abi, functionName: "close", args: [w.b.channelId, 0n, "0x"] }));
      await w.escrow.write.requestClose([w.a.channelId], { account: w.payer.account });
      await networkHelpers.time.increase(900);
      await w.escrow.write.withdraw([w.a.channelId], { account: w.payer.account });
      const r = await recordedReentry(w);
      assert.equal(r.succeeded, false);
      assert.equal(r.error?.errorName, "NotPayee");
      assert.deepEqual(r.error?.args, [getAddress(w.reentrant.address), w.b.payee]);
      assert.equal((await w.escrow.read.getChannel([w.b.channelId])).finalized, false);
    });

    it("test_withdraw_reentering_same_channel_sees_it_finalized", async () => {
      // Effects before interactions: by the time the refund moves, the channel is already final.
      const w = await networkHelpers.loadFixture(reentrantWorld);
      await arm(w, encodeFunctionData({ abi: w.escrow.abi, functionName: "withdraw", args: [w.b.channelId] }));
      await w.escrow.write.withdraw([w.b.channelId], { account: w.payer.account });
      const r = await recordedReentry(w);
      assert.equal(r.succeeded, false);
      assert.equal(r.error?.errorName, "ChannelFinalized");
      assert.deepEqual(r.error?.args, [w.b.channelId]);
      assert.equal(await w.reentrant.read.balanceOf([w.escrow.address]), 100n);
    });

    it("test_settleWithAuthorization_reentered_during_relayed_settle_stopped_by_guard", async () => {
      const w = await networkHelpers.loadFixture(reentrantWorld);
      const payeeKey = keyOf(w.payee.account.address);
      const inner = [
        w.b.channelId,
        20n,
        1n,
        maxUint256,
        await signPayeeAuthorization(payeeKey, "settle", w.escrow.address, {
          channelId: w.b.channelId,
          cumulativeAmount: 20n,
          nonce: 1n,
          deadline: maxUint256,
        }),
        await voucherFor(w, w.b.channelId, 20n),
      ] as const;
      await arm(w, encodeFunctionData({ abi: w.escrow.abi, functionName: "settleWithAuthorization", args: inner }));
      const outerAuth = await signPayeeAuthorization(payeeKey, "settle", w.escrow.address, {
        channelId: w.a.channelId,
        cumulativeAmount: 10n,
        nonce: 1n,
        deadline: maxUint256,
      });
      await w.escrow.write.settleWithAuthorization(
        [w.a.channelId, 10n, 1n, maxUint256, outerAuth, await voucherFor(w, w.a.channelId, 10n)],
        { account: w.relayer.account },
      );
      const r = await recordedReentry(w);
      assert.equal(r.succeeded, false);
      assert.equal(slice(r.data, 0, 4), toFunctionSelector("ReentrancyGuardReentrantCall()"));
      assert.equal(r.error?.errorName, "ReentrancyGuardReentrantCall");
      // The inner authorization was not consumed and still works on its own.
      assert.equal(await w.escrow.read.isPayeeNonceUsed([w.b.payee, w.b.channelId, 1n]), false);
      await w.escrow.write.settleWithAuthorization(inner, { account: w.relayer.account });
      assert.equal((await w.escrow.read.getChannel([w.b.channelId])).settled, 20n);
    });

    it("test_closeWithAuthorization_reentered_during_relayed_close_stopped_by_guard", async () => {
      const w = await networkHelpers.loadFixture(reentrantWorld);
      const payeeKey = keyOf(w.payee.account.address);
      const auth = (channelId: Hex, nonce: bigint) =>
        signPayeeAuthorization(payeeKey, "close", w.escrow.address, {
          channelId,
          cumulativeAmount: 0n,
          nonce,
          deadline: maxUint256,
        });
      await arm(
        w,
        encodeFunctionData({
          abi: w.escrow.abi,
          functionName: "closeWithAuthorization",
          args: [w.b.channelId, 0n, 5n, maxUint256, await auth(w.b.channelId, 5n), "0x"],
        }),
      );
      await w.escrow.write.closeWithAuthorization([w.a.channelId, 0n, 5n, maxUint256, await auth(w.a.channelId, 5n), "0x"], {
        account: w.relayer.account,
      });
      const r = await recordedReentry(w);
      assert.equal(r.succeeded, false);
      assert.equal(r.error?.errorName, "ReentrancyGuardReentrantCall");
      assert.equal((await w.escrow.read.getChannel([w.b.channelId])).finalized, false);
    });

    it("test_topUpWithAuthorization_reentering_settleWithAuthorization_stopped_by_guard", async () => {
      const w = await networkHelpers.loadFixture(reentrantWorld);
      const payeeKey = keyOf(w.payee.account.address);
      await arm(
        w,
        encodeFunctionData({
          abi: w.escrow.abi,
          functionName: "settleWithAuthorization",
          args: [
            w.b.channelId,
            20n,
            1n,
            maxUint256,
            await signPayeeAuthorization(payeeKey, "settle", w.escrow.address, {
              channelId: w.b.channelId,
              cumulativeAmount: 20n,
              nonce: 1n,
              deadline: maxUint256,
            }),
            await voucherFor(w, w.b.channelId, 20n),
          ],
        }),
      );
      const from: Address = getAddress(w.payer.account.address);
      const topUpSalt = nextSalt();
      const nonce = topUpNonce(w.a.channelId, 5n, from, topUpSalt);
      const signature = await signReceiveAuthorization(keyOf(from), w.reentrant, {
        from,
        to: w.escrow.address,
        value: 5n,
        validAfter: 0n,
        validBefore: maxUint256,
        nonce,
      });
      await w.escrow.write.topUpWithAuthorization([w.a.channelId, 5n, from, topUpSalt, 0n, maxUint256, nonce, signature], {
        account: w.relayer.account,
      });
      const r = await recordedReentry(w);
      assert.equal(r.succeeded, false);
      assert.equal(r.error?.errorName, "ReentrancyGuardReentrantCall");
      assert.equal((await w.escrow.read.getChannel([w.a.channelId])).deposit, 105n);
      assert.equal((await w.escrow.read.getChannel([w.b.channelId])).settled, 0n);
    });
  });
});

