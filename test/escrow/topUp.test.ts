import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, parseEventLogs } from "viem";
import { MAX_DEPOSIT, UINT128_MAX, USDC, bytes32, deployEscrowWorld, expectTokenDeltas, transfersIn } from "./helpers.js";

const { viem, networkHelpers } = await network.create();

async function escrowWorld() {
  return deployEscrowWorld(viem);
}

describe("TollgateEscrow.topUp", () => {
  it("test_topUp_adds_to_deposit_and_pulls_from_payer", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 10n * USDC });
    await expectTokenDeltas(
      w.token,
      [
        [w.payer.account.address, -15n * USDC],
        [w.escrow.address, 15n * USDC],
      ],
      () => w.escrow.write.topUp([c.channelId, 15n * USDC], { account: w.payer.account }),
    );
    assert.equal((await w.escrow.read.getChannel([c.channelId])).deposit, 25n * USDC);
  });

  it("test_topUp_emits_ChannelToppedUp_with_new_total", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 10n * USDC });
    await viem.assertions.emitWithArgs(
      w.escrow.write.topUp([c.channelId, 3n], { account: w.payer.account }),
      w.escrow,
      "ChannelToppedUp",
      [c.channelId, 3n, 10n * USDC + 3n],
    );
  });

  it("test_topUp_without_pending_close_emits_no_CloseRequestCancelled", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel();
    const hash = await w.escrow.write.topUp([c.channelId, 1n], { account: w.payer.account });
    const receipt = await w.publicClient.waitForTransactionReceipt({ hash });
    const names = parseEventLogs({ abi: w.escrow.abi, logs: receipt.logs }).map((log) => log.eventName);
    assert.deepEqual(names, ["ChannelToppedUp"]);
  });

  it("test_topUp_cancels_pending_close", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel();
    await w.escrow.write.requestClose([c.channelId], { account: w.payer.account });
    assert.notEqual((await w.escrow.read.getChannel([c.channelId])).closeRequestedAt, 0n);

    const hash = await w.escrow.write.topUp([c.channelId, 1n], { account: w.payer.account });
    await viem.assertions.emitWithArgs(Promise.resolve(hash), w.escrow, "CloseRequestCancelled", [c.channelId]);
    await viem.assertions.emitWithArgs(Promise.resolve(hash), w.escrow, "ChannelToppedUp", [
      c.channelId,
      1n,
      100n * USDC + 1n,
    ]);
    assert.equal((await w.escrow.read.getChannel([c.channelId])).closeRequestedAt, 0n);

    // The cancelled request no longer lets the payer withdraw, even after the grace period.
    await networkHelpers.time.increase(3600);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.withdraw([c.channelId], { account: w.payer.account }),
      w.escrow,
      "CloseNotRequested",
      [c.channelId],
    );
  });

  it("test_topUp_reverts_NotPayer_for_payee_and_stranger", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel();
    for (const caller of [w.payee, w.payer2]) {
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.topUp([c.channelId, 1n], { account: caller.account }),
        w.escrow,
        "NotPayer",
        [caller.account.address, w.payer.account.address],
      );
    }
  });

  it("test_topUp_reverts_ChannelNotFound_for_unknown_id", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const unknown = bytes32(0xdead);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.topUp([unknown, 1n], { account: w.payer.account }),
      w.escrow,
      "ChannelNotFound",
      [unknown],
    );
  });

  it("test_topUp_reverts_ZeroDeposit", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel();
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.topUp([c.channelId, 0n], { account: w.payer.account }),
      w.escrow,
      "ZeroDeposit",
      [],
    );
  });

  it("test_topUp_to_MAX_DEPOSIT_exactly_succeeds", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    await w.token.write.mint([w.payer.account.address, MAX_DEPOSIT]);
    const c = await w.openChannel({ deposit: 7n });
    await w.escrow.write.topUp([c.channelId, MAX_DEPOSIT - 7n], { account: w.payer.account });
    assert.equal((await w.escrow.read.getChannel([c.channelId])).deposit, MAX_DEPOSIT);
  });

  it("test_topUp_reverts_DepositOverflow_one_past_MAX_DEPOSIT", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    await w.token.write.mint([w.payer.account.address, MAX_DEPOSIT]);
    const c = await w.openChannel({ deposit: 7n });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.topUp([c.channelId, MAX_DEPOSIT - 6n], { account: w.payer.account }),
      w.escrow,
      "DepositOverflow",
      [MAX_DEPOSIT + 1n, MAX_DEPOSIT],
    );
    assert.equal((await w.escrow.read.getChannel([c.channelId])).deposit, 7n);
  });

  it("test_topUp_reverts_DepositOverflow_for_uint128_max_without_wrapping", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 5n });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.topUp([c.channelId, UINT128_MAX], { account: w.payer.account }),
      w.escrow,
      "DepositOverflow",
      [UINT128_MAX + 5n, MAX_DEPOSIT],
    );
  });

  it("test_topUp_transfers_exactly_once_from_payer", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel();
    const hash = await w.escrow.write.topUp([c.channelId, 9n], { account: w.payer.account });
    assert.deepEqual(await transfersIn(w.publicClient, w.token.address, hash), [
      { from: getAddress(w.payer.account.address), to: getAddress(w.escrow.address), value: 9n },
    ]);
  });

  it("test_topUp_after_settle_raises_the_settle_ceiling", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 10n });
    await w.escrow.write.settle([c.channelId, 10n, await w.voucher(c.channelId, 10n)], { account: w.payee.account });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settle([c.channelId, 11n, await w.voucher(c.channelId, 11n)], { account: w.payee.account }),
      w.escrow,
      "AmountExceedsDeposit",
      [11n, 10n],
    );
    await w.escrow.write.topUp([c.channelId, 1n], { account: w.payer.account });
    await w.escrow.write.settle([c.channelId, 11n, await w.voucher(c.channelId, 11n)], { account: w.payee.account });
    const channel = await w.escrow.read.getChannel([c.channelId]);
    assert.equal(channel.settled, 11n);
    assert.equal(channel.deposit, 11n);
  });
});
