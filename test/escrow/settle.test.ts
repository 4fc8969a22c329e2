import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress } from "viem";
import { USDC, bytes32, deployEscrowWorld, expectChannelSettled, expectTokenDeltas, transfersIn } from "./helpers.js";

const { viem, networkHelpers } = await network.create();

async function escrowWorld() {
  return deployEscrowWorld(viem);
}

describe("TollgateEscrow.settle", () => {
  it("test_settle_pays_payee_the_voucher_amount", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n * USDC });
    const sig = await w.voucher(c.channelId, 30n * USDC);
    await expectTokenDeltas(
      w.token,
      [
        [w.payee.account.address, 30n * USDC],
        [w.escrow.address, -30n * USDC],
        [w.payer.account.address, 0n],
      ],
      () => w.escrow.write.settle([c.channelId, 30n * USDC, sig], { account: w.payee.account }),
    );
    const channel = await w.escrow.read.getChannel([c.channelId]);
    assert.equal(channel.settled, 30n * USDC);
    assert.equal(channel.deposit, 100n * USDC);
    assert.equal(channel.finalized, false);
  });

  it("test_settle_second_voucher_pays_only_the_delta", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await w.escrow.write.settle([c.channelId, 30n, await w.voucher(c.channelId, 30n)], { account: w.payee.account });
    const sig = await w.voucher(c.channelId, 45n);
    let hash: `0x${string}` = "0x";
    await expectTokenDeltas(w.token, [[w.payee.account.address, 15n]], async () => {
      hash = await w.escrow.write.settle([c.channelId, 45n, sig], { account: w.payee.account });
    });
    await expectChannelSettled(w.publicClient, w.escrow, hash, [[c.channelId, 45n]]);
    assert.deepEqual(await transfersIn(w.publicClient, w.token.address, hash), [
      { from: getAddress(w.escrow.address), to: getAddress(w.payee.account.address), value: 15n },
    ]);
  });

  it("test_settle_emits_ChannelSettled_with_exact_args", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await w.escrow.write.settle([c.channelId, 30n, await w.voucher(c.channelId, 30n)], { account: w.payee.account });
    const hash = await w.escrow.write.settle([c.channelId, 31n, await w.voucher(c.channelId, 31n)], {
      account: w.payee.account,
    });
    await expectChannelSettled(w.publicClient, w.escrow, hash, [[c.channelId, 31n]]);
    assert.deepEqual(await transfersIn(w.publicClient, w.token.address, hash), [
      { from: getAddress(w.escrow.address), to: getAddress(w.payee.account.address), value: 1n },
    ]);
  });

  it("test_settle_at_deposit_exactly_succeeds", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await w.escrow.write.settle([c.channelId, 100n, await w.voucher(c.channelId, 100n)], { account: w.payee.account });
    assert.equal((await w.escrow.read.getChannel([c.channelId])).settled, 100n);
    assert.equal(await w.token.read.balanceOf([w.escrow.address]), 0n);
  });

  it("test_settle_reverts_AmountExceedsDeposit_at_deposit_plus_one", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settle([c.channelId, 101n, await w.voucher(c.channelId, 101n)], { account: w.payee.account }),
      w.escrow,
      "AmountExceedsDeposit",
      [101n, 100n],
    );
  });

  it("test_settle_reverts_AmountNotIncreasing_for_zero_on_fresh_channel", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settle([c.channelId, 0n, await w.voucher(c.channelId, 0n)], { account: w.payee.account }),
      w.escrow,
      "AmountNotIncreasing",
      [0n, 0n],
    );
  });

  it("test_settle_reverts_AmountNotIncreasing_at_settled_and_below_and_accepts_settled_plus_one", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await w.escrow.write.settle([c.channelId, 40n, await w.voucher(c.channelId, 40n)], { account: w.payee.account });
    // Replaying the same voucher, and an older one, are rejected.
    for (const amount of [40n, 39n]) {
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.settle([c.channelId, amount, await w.voucher(c.channelId, amount)], {
          account: w.payee.account,
        }),
        w.escrow,
        "AmountNotIncreasing",
        [amount, 40n],
      );
    }
    await expectTokenDeltas(w.token, [[w.payee.account.address, 1n]], async () =>
      w.escrow.write.settle([c.channelId, 41n, await w.voucher(c.channelId, 41n)], { account: w.payee.account }),
    );
  });

  it("test_settle_reverts_NotPayee_for_payer_and_stranger", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel();
    const sig = await w.voucher(c.channelId, 1n);
    for (const caller of [w.payer, w.other]) {
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.settle([c.channelId, 1n, sig], { account: caller.account }),
        w.escrow,
        "NotPayee",
        [caller.account.address, w.payee.account.address],
      );
    }
  });

  it("test_settle_reverts_ChannelNotFound_for_unknown_id", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const unknown = bytes32(12345);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settle([unknown, 1n, await w.voucher(unknown, 1n)], { account: w.payee.account }),
      w.escrow,
      "ChannelNotFound",
      [unknown],
    );
  });

  it("test_settle_reverts_InvalidSignature_for_voucher_of_another_channel", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c1 = await w.openChannel();
    const c2 = await w.openChannel();
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settle([c2.channelId, 5n, await w.voucher(c1.channelId, 5n)], { account: w.payee.account }),
      w.escrow,
      "InvalidSignature",
      [w.payer.account.address],
    );
  });

  it("test_settle_reverts_InvalidSignature_for_amount_other_than_signed", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel();
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settle([c.channelId, 6n, await w.voucher(c.channelId, 5n)], { account: w.payee.account }),
      w.escrow,
      "InvalidSignature",
      [w.payer.account.address],
    );
  });

  it("test_settle_reverts_InvalidSignature_for_empty_signature", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel();
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settle([c.channelId, 5n, "0x"], { account: w.payee.account }),
      w.escrow,
      "InvalidSignature",
      [w.payer.account.address],
    );
  });

  it("test_settle_allowed_during_grace_period_and_keeps_close_request", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await w.escrow.write.requestClose([c.channelId], { account: w.payer.account });
    const requestedAt = (await w.escrow.read.getChannel([c.channelId])).closeRequestedAt;
    const grace = BigInt(await w.escrow.read.CLOSE_GRACE_PERIOD());
    // Last second before the payer could withdraw.
    await networkHelpers.time.setNextBlockTimestamp(requestedAt + grace - 1n);
    await expectTokenDeltas(w.token, [[w.payee.account.address, 60n]], async () =>
      w.escrow.write.settle([c.channelId, 60n, await w.voucher(c.channelId, 60n)], { account: w.payee.account }),
    );
    const channel = await w.escrow.read.getChannel([c.channelId]);
    assert.equal(channel.closeRequestedAt, requestedAt);
    assert.equal(channel.settled, 60n);
    // The payer's later withdraw refunds only what is left.
    await networkHelpers.time.setNextBlockTimestamp(requestedAt + grace);
    await expectTokenDeltas(w.token, [[w.payer.account.address, 40n]], () =>
      w.escrow.write.withdraw([c.channelId], { account: w.payer.account }),
    );
  });

  it("test_settle_allowed_after_grace_period_until_payer_withdraws", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await w.escrow.write.requestClose([c.channelId], { account: w.payer.account });
    await networkHelpers.time.increase(10_000);
    await w.escrow.write.settle([c.channelId, 10n, await w.voucher(c.channelId, 10n)], { account: w.payee.account });
    assert.equal((await w.escrow.read.getChannel([c.channelId])).settled, 10n);
  });
});
