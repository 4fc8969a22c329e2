import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress } from "viem";
import { MAX_DEPOSIT, USDC, ZERO, bytes32, deployEscrowWorld, expectTokenDeltas, transfersIn } from "./helpers.js";

const { viem, networkHelpers } = await network.create();

async function escrowWorld() {
  return deployEscrowWorld(viem);
}

describe("TollgateEscrow.close", () => {
  // A finalized record keeps its final settled in slot 0: low 64 bits where closeRequestedAt was, the
  // rest beside the FINALIZED flag. Amounts at the 64-bit seam (-1/exact/+1) and at MAX_DEPOSIT read back.
  it("test_close_finalizedRecord_keepsSettledDepositAndToken_acrossTheSlotZeroEncoding", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    for (const amount of [2n ** 64n - 1n, 2n ** 64n, 2n ** 64n + 1n, MAX_DEPOSIT]) {
      await w.token.write.mint([w.payer.account.address, amount]);
      const c = await w.openChannel({ deposit: amount });
      await w.escrow.write.close([c.channelId, amount, await w.voucher(c.channelId, amount)], { account: w.payee.account });
      const channel = await w.escrow.read.getChannel([c.channelId]);
      assert.deepEqual(
        [channel.finalized, channel.settled, channel.deposit, getAddress(channel.token), getAddress(channel.payer)],
        [true, amount, amount, getAddress(w.token.address), getAddress(w.payer.account.address)],
        `amount ${amount}`,
      );
      assert.deepEqual([channel.payee, channel.closeRequestedAt, channel.authorizedSigner], [ZERO, 0n, ZERO]);
    }
  });

  it("test_close_with_higher_voucher_pays_delta_and_refunds_rest", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n * USDC });
    await w.escrow.write.settle([c.channelId, 20n * USDC, await w.voucher(c.channelId, 20n * USDC)], {
      account: w.payee.account,
    });
    const sig = await w.voucher(c.channelId, 65n * USDC);
    let hash: `0x${string}` = "0x";
    await expectTokenDeltas(
      w.token,
      [
        [w.payee.account.address, 45n * USDC],
        [w.payer.account.address, 35n * USDC],
        [w.escrow.address, -80n * USDC],
      ],
      async () => {
        hash = await w.escrow.write.close([c.channelId, 65n * USDC, sig], { account: w.payee.account });
      },
    );
    await viem.assertions.emitWithArgs(Promise.resolve(hash), w.escrow, "ChannelClosed", [
      c.channelId,
      65n * USDC,
      45n * USDC,
      35n * USDC,
    ]);
    assert.deepEqual(await transfersIn(w.publicClient, w.token.address, hash), [
      { from: getAddress(w.escrow.address), to: getAddress(w.payee.account.address), value: 45n * USDC },
      { from: getAddress(w.escrow.address), to: getAddress(w.payer.account.address), value: 35n * USDC },
    ]);
    const channel = await w.escrow.read.getChannel([c.channelId]);
    assert.equal(channel.finalized, true);
    assert.equal(channel.settled, 65n * USDC);
    assert.equal(channel.deposit, 100n * USDC);
  });

  it("test_close_forfeit_with_empty_signature_at_settled_refunds_deposit_minus_settled", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await w.escrow.write.settle([c.channelId, 30n, await w.voucher(c.channelId, 30n)], { account: w.payee.account });
    let hash: `0x${string}` = "0x";
    await expectTokenDeltas(
      w.token,
      [
        [w.payee.account.address, 0n],
        [w.payer.account.address, 70n],
        [w.escrow.address, -70n],
      ],
      async () => {
        hash = await w.escrow.write.close([c.channelId, 30n, "0x"], { account: w.payee.account });
      },
    );
    await viem.assertions.emitWithArgs(Promise.resolve(hash), w.escrow, "ChannelClosed", [c.channelId, 30n, 0n, 70n]);
    assert.deepEqual(await transfersIn(w.publicClient, w.token.address, hash), [
      { from: getAddress(w.escrow.address), to: getAddress(w.payer.account.address), value: 70n },
    ]);
    const channel = await w.escrow.read.getChannel([c.channelId]);
    assert.equal(channel.finalized, true);
    assert.equal(channel.settled, 30n);
  });

  it("test_close_forfeit_below_settled_keeps_settled_and_ignores_signature", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await w.escrow.write.settle([c.channelId, 30n, await w.voucher(c.channelId, 30n)], { account: w.payee.account });
    // A garbage signature is not even looked at on the forfeit path.
    await viem.assertions.emitWithArgs(
      w.escrow.write.close([c.channelId, 10n, "0xdeadbeef"], { account: w.payee.account }),
      w.escrow,
      "ChannelClosed",
      [c.channelId, 30n, 0n, 70n],
    );
    assert.equal((await w.escrow.read.getChannel([c.channelId])).settled, 30n);
  });

  it("test_close_forfeit_on_unsettled_channel_refunds_full_deposit", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await expectTokenDeltas(
      w.token,
      [
        [w.payer.account.address, 100n],
        [w.payee.account.address, 0n],
      ],
      () => w.escrow.write.close([c.channelId, 0n, "0x"], { account: w.payee.account }),
    );
  });

  it("test_close_at_deposit_exactly_pays_all_and_refunds_nothing", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    const hash = await w.escrow.write.close([c.channelId, 100n, await w.voucher(c.channelId, 100n)], {
      account: w.payee.account,
    });
    await viem.assertions.emitWithArgs(Promise.resolve(hash), w.escrow, "ChannelClosed", [c.channelId, 100n, 100n, 0n]);
    // No zero-value refund transfer.
    assert.deepEqual(await transfersIn(w.publicClient, w.token.address, hash), [
      { from: getAddress(w.escrow.address), to: getAddress(w.payee.account.address), value: 100n },
    ]);
  });

  it("test_close_fully_settled_forfeit_moves_no_tokens", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await w.escrow.write.settle([c.channelId, 100n, await w.voucher(c.channelId, 100n)], { account: w.payee.account });
    const hash = await w.escrow.write.close([c.channelId, 100n, "0x"], { account: w.payee.account });
    await viem.assertions.emitWithArgs(Promise.resolve(hash), w.escrow, "ChannelClosed", [c.channelId, 100n, 0n, 0n]);
    assert.deepEqual(await transfersIn(w.publicClient, w.token.address, hash), []);
  });

  it("test_close_reverts_AmountExceedsDeposit_at_deposit_plus_one", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.close([c.channelId, 101n, await w.voucher(c.channelId, 101n)], { account: w.payee.account }),
      w.escrow,
      "AmountExceedsDeposit",
      [101n, 100n],
    );
  });

  it("test_close_reverts_InvalidSignature_above_settled_with_empty_or_wrong_signature", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await w.escrow.write.settle([c.channelId, 30n, await w.voucher(c.channelId, 30n)], { account: w.payee.account });
    for (const sig of ["0x" as const, await w.voucher(c.channelId, 31n, w.other.account.address)]) {
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.close([c.channelId, 31n, sig], { account: w.payee.account }),
        w.escrow,
        "InvalidSignature",
        [w.payer.account.address],
      );
    }
    assert.equal((await w.escrow.read.getChannel([c.channelId])).finalized, false);
  });

  it("test_close_reverts_NotPayee_for_payer_and_stranger", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel();
    for (const caller of [w.payer, w.other]) {
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.close([c.channelId, 0n, "0x"], { account: caller.account }),
        w.escrow,
        "NotPayee",
        [caller.account.address, w.payee.account.address],
      );
    }
  });

  it("test_close_reverts_ChannelNotFound_for_unknown_id", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const unknown = bytes32(777);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.close([unknown, 0n, "0x"], { account: w.payee.account }),
      w.escrow,
      "ChannelNotFound",
      [unknown],
    );
  });

  it("test_close_allowed_during_grace_period", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await w.escrow.write.requestClose([c.channelId], { account: w.payer.account });
    const requestedAt = (await w.escrow.read.getChannel([c.channelId])).closeRequestedAt;
    await networkHelpers.time.setNextBlockTimestamp(requestedAt + 899n);
    await expectTokenDeltas(
      w.token,
      [
        [w.payee.account.address, 80n],
        [w.payer.account.address, 20n],
      ],
      async () =>
        w.escrow.write.close([c.channelId, 80n, await w.voucher(c.channelId, 80n)], { account: w.payee.account }),
    );
    // The pending forced close cannot pay the payer a second time.
    await networkHelpers.time.increase(3600);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.withdraw([c.channelId], { account: w.payer.account }),
      w.escrow,
      "ChannelFinalized",
      [c.channelId],
    );
  });
});
