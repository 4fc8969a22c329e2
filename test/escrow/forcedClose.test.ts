// requestClose and withdraw: the payer's forced-close path.
import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress } from "viem";
import { USDC, bytes32, deployEscrowWorld, expectTokenDeltas, transfersIn } from "./helpers.js";

const { viem, networkHelpers } = await network.create();

const GRACE = 900n;

async function escrowWorld() {
  return deployEscrowWorld(viem);
}

/** A world with one 100-unit channel, 30 settled, whose close was requested at a known timestamp. */
async function closeRequestedWorld() {
  const w = await deployEscrowWorld(viem);
  const c = await w.openChannel({ deposit: 100n });
  await w.escrow.write.settle([c.channelId, 30n, await w.voucher(c.channelId, 30n)], { account: w.payee.account });
  const requestedAt = BigInt(await networkHelpers.time.latest()) + 10n;
  await networkHelpers.time.setNextBlockTimestamp(requestedAt);
  await w.escrow.write.requestClose([c.channelId], { account: w.payer.account });
  return { ...w, c, requestedAt };
}

describe("TollgateEscrow.requestClose", () => {
  it("test_requestClose_records_block_timestamp_and_emits_CloseRequested", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel();
    const at = BigInt(await networkHelpers.time.latest()) + 100n;
    await networkHelpers.time.setNextBlockTimestamp(at);
    await viem.assertions.emitWithArgs(
      w.escrow.write.requestClose([c.channelId], { account: w.payer.account }),
      w.escrow,
      "CloseRequested",
      [c.channelId, at],
    );
    const channel = await w.escrow.read.getChannel([c.channelId]);
    assert.equal(channel.closeRequestedAt, at);
    assert.equal(channel.finalized, false);
  });

  it("test_requestClose_moves_no_tokens", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel();
    const hash = await w.escrow.write.requestClose([c.channelId], { account: w.payer.account });
    assert.deepEqual(await transfersIn(w.publicClient, w.token.address, hash), []);
  });

  it("test_requestClose_reverts_CloseAlreadyRequested_on_second_call", async () => {
    const w = await networkHelpers.loadFixture(closeRequestedWorld);
    await networkHelpers.time.increase(5);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.requestClose([w.c.channelId], { account: w.payer.account }),
      w.escrow,
      "CloseAlreadyRequested",
      [w.c.channelId, w.requestedAt],
    );
    assert.equal((await w.escrow.read.getChannel([w.c.channelId])).closeRequestedAt, w.requestedAt);
  });

  it("test_requestClose_after_topUp_cancel_restarts_the_clock", async () => {
    const w = await networkHelpers.loadFixture(closeRequestedWorld);
    await w.escrow.write.topUp([w.c.channelId, 1n], { account: w.payer.account });
    const second = w.requestedAt + 500n;
    await networkHelpers.time.setNextBlockTimestamp(second);
    await w.escrow.write.requestClose([w.c.channelId], { account: w.payer.account });
    // The first request's deadline no longer applies.
    await networkHelpers.time.setNextBlockTimestamp(w.requestedAt + GRACE);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.withdraw([w.c.channelId], { account: w.payer.account }),
      w.escrow,
      "CloseNotReady",
      [second + GRACE, w.requestedAt + GRACE],
    );
  });

  it("test_requestClose_reverts_NotPayer_for_payee_and_stranger", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel();
    for (const caller of [w.payee, w.other]) {
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.requestClose([c.channelId], { account: caller.account }),
        w.escrow,
        "NotPayer",
        [caller.account.address, w.payer.account.address],
      );
    }
  });

  it("test_requestClose_reverts_ChannelNotFound_for_unknown_id", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const unknown = bytes32(4242);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.requestClose([unknown], { account: w.payer.account }),
      w.escrow,
      "ChannelNotFound",
      [unknown],
    );
  });
});

describe("TollgateEscrow.withdraw", () => {
  it("test_withdraw_reverts_CloseNotRequested_without_request", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel();
    await networkHelpers.time.increase(GRACE * 10n);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.withdraw([c.channelId], { account: w.payer.account }),
      w.escrow,
      "CloseNotRequested",
      [c.channelId],
    );
  });

  it("test_withdraw_reverts_CloseNotReady_one_second_before_grace_end", async () => {
    const w = await networkHelpers.loadFixture(closeRequestedWorld);
    const readyAt = w.requestedAt + GRACE;
    await networkHelpers.time.setNextBlockTimestamp(readyAt - 1n);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.withdraw([w.c.channelId], { account: w.payer.account }),
      w.escrow,
      "CloseNotReady",
      [readyAt, readyAt - 1n],
    );
  });

  it("test_withdraw_reverts_CloseNotReady_right_after_request", async () => {
    const w = await networkHelpers.loadFixture(closeRequestedWorld);
    await networkHelpers.time.setNextBlockTimestamp(w.requestedAt + 1n);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.withdraw([w.c.channelId], { account: w.payer.account }),
      w.escrow,
      "CloseNotReady",
      [w.requestedAt + GRACE, w.requestedAt + 1n],
    );
  });

  it("test_withdraw_succeeds_exactly_at_grace_end", async () => {
    const w = await networkHelpers.loadFixture(closeRequestedWorld);
    await networkHelpers.time.setNextBlockTimestamp(w.requestedAt + GRACE);
    await expectTokenDeltas(
      w.token,
      [
        [w.payer.account.address, 70n],
        [w.payee.account.address, 0n],
        [w.escrow.address, -70n],
      ],
      () => w.escrow.write.withdraw([w.c.channelId], { account: w.payer.account }),
    );
    const block = await w.publicClient.getBlock();
    assert.equal(block.timestamp, w.requestedAt + GRACE);
    assert.equal((await w.escrow.read.getChannel([w.c.channelId])).finalized, true);
  });

  it("test_withdraw_succeeds_one_second_after_grace_end", async () => {
    const w = await networkHelpers.loadFixture(closeRequestedWorld);
    await networkHelpers.time.setNextBlockTimestamp(w.requestedAt + GRACE + 1n);
    await expectTokenDeltas(w.token, [[w.payer.account.address, 70n]], () =>
      w.escrow.write.withdraw([w.c.channelId], { account: w.payer.account }),
    );
  });

  it("test_withdraw_emits_ChannelWithdrawn_and_finalizes", async () => {
    const w = await networkHelpers.loadFixture(closeRequestedWorld);
    await networkHelpers.time.setNextBlockTimestamp(w.requestedAt + GRACE);
    const hash = await w.escrow.write.withdraw([w.c.channelId], { account: w.payer.account });
    await viem.assertions.emitWithArgs(Promise.resolve(hash), w.escrow, "ChannelWithdrawn", [w.c.channelId, 70n]);
    assert.deepEqual(await transfersIn(w.publicClient, w.token.address, hash), [
      { from: getAddress(w.escrow.address), to: getAddress(w.payer.account.address), value: 70n },
    ]);
    const channel = await w.escrow.read.getChannel([w.c.channelId]);
    assert.equal(channel.finalized, true);
    assert.equal(channel.settled, 30n);
    assert.equal(channel.closeRequestedAt, 0n);
  });

  it("test_withdraw_of_fully_settled_channel_finalizes_without_transfer", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 50n });
    await w.escrow.write.settle([c.channelId, 50n, await w.voucher(c.channelId, 50n)], { account: w.payee.account });
    await w.escrow.write.requestClose([c.channelId], { account: w.payer.account });
    await networkHelpers.time.increase(GRACE);
    const hash = await w.escrow.write.withdraw([c.channelId], { account: w.payer.account });
    await viem.assertions.emitWithArgs(Promise.resolve(hash), w.escrow, "ChannelWithdrawn", [c.channelId, 0n]);
    assert.deepEqual(await transfersIn(w.publicClient, w.token.address, hash), []);
    assert.equal((await w.escrow.read.getChannel([c.channelId])).finalized, true);
  });

  it("test_withdraw_reverts_NotPayer_for_payee_and_stranger", async () => {
    const w = await networkHelpers.loadFixture(closeRequestedWorld);
    await networkHelpers.time.increase(GRACE);
    for (const caller of [w.payee, w.other]) {
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.withdraw([w.c.channelId], { account: caller.account }),
        w.escrow,
        "NotPayer",
        [caller.account.address, w.payer.account.address],
      );
    }
  });

  it("test_withdraw_reverts_ChannelNotFound_for_unknown_id", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const unknown = bytes32(99);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.withdraw([unknown], { account: w.payer.account }),
      w.escrow,
      "ChannelNotFound",
      [unknown],
    );
  });

  it("test_withdraw_refund_goes_to_payer_only_once_across_channels", async () => {
    // Two channels share the escrow's balance: withdrawing one must not touch the other's funds.
    const w = await networkHelpers.loadFixture(escrowWorld);
    const a = await w.openChannel({ deposit: 100n * USDC });
    const b = await w.openChannel({ deposit: 40n * USDC, payer: w.payer2 });
    await w.escrow.write.requestClose([a.channelId], { account: w.payer.account });
    await networkHelpers.time.increase(GRACE);
    await w.escrow.write.withdraw([a.channelId], { account: w.payer.account });
    assert.equal(await w.token.read.balanceOf([w.escrow.address]), 40n * USDC);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.withdraw([a.channelId], { account: w.payer.account }),
      w.escrow,
      "ChannelFinalized",
      [a.channelId],
    );
    await w.escrow.write.close([b.channelId, 0n, "0x"], { account: w.payee.account });
    assert.equal(await w.token.read.balanceOf([w.escrow.address]), 0n);
  });
});
