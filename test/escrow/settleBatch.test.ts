import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress } from "viem";
import { USDC, bytes32, deployEscrowWorld, expectChannelSettled, expectTokenDeltas, transfersIn } from "./helpers.js";

const { viem, networkHelpers } = await network.create();

async function escrowWorld() {
  return deployEscrowWorld(viem);
}

/** Three channels to the same payee from two payers, one with a session key, one partly settled. */
async function batchWorld() {
  const w = await deployEscrowWorld(viem);
  const a = await w.openChannel({ deposit: 100n * USDC });
  const b = await w.openChannel({ deposit: 50n * USDC, payer: w.payer2 });
  const c = await w.openChannel({ deposit: 80n * USDC, authorizedSigner: w.sessionKeyHolder.account.address });
  await w.escrow.write.settle([c.channelId, 5n * USDC, await w.voucher(c.channelId, 5n * USDC, c.authorizedSigner)], {
    account: w.payee.account,
  });
  const claims = [
    { channelId: a.channelId, cumulativeAmount: 10n * USDC, signature: await w.voucher(a.channelId, 10n * USDC) },
    {
      channelId: b.channelId,
      cumulativeAmount: 50n * USDC,
      signature: await w.voucher(b.channelId, 50n * USDC, w.payer2.account.address),
    },
    {
      channelId: c.channelId,
      cumulativeAmount: 25n * USDC,
      signature: await w.voucher(c.channelId, 25n * USDC, c.authorizedSigner),
    },
  ];
  return { ...w, a, b, c, claims };
}

describe("TollgateEscrow.settleBatch", () => {
  it("test_settleBatch_settles_every_channel_with_one_transfer", async () => {
    const w = await networkHelpers.loadFixture(batchWorld);
    const { result } = await w.escrow.simulate.settleBatch([w.token.address, w.claims], {
      account: w.payee.account.address,
    });
    assert.equal(result, 80n * USDC);
    let hash: `0x${string}` = "0x";
    await expectTokenDeltas(
      w.token,
      [
        [w.payee.account.address, 80n * USDC],
        [w.escrow.address, -80n * USDC],
      ],
      async () => {
        hash = await w.escrow.write.settleBatch([w.token.address, w.claims], { account: w.payee.account });
      },
    );
    assert.deepEqual(await transfersIn(w.publicClient, w.token.address, hash), [
      { from: getAddress(w.escrow.address), to: getAddress(w.payee.account.address), value: 80n * USDC },
    ]);
    assert.equal((await w.escrow.read.getChannel([w.a.channelId])).settled, 10n * USDC);
    assert.equal((await w.escrow.read.getChannel([w.b.channelId])).settled, 50n * USDC);
    assert.equal((await w.escrow.read.getChannel([w.c.channelId])).settled, 25n * USDC);
  });

  it("test_settleBatch_emits_ChannelSettled_per_channel_in_order", async () => {
    const w = await networkHelpers.loadFixture(batchWorld);
    const hash = await w.escrow.write.settleBatch([w.token.address, w.claims], { account: w.payee.account });
    await expectChannelSettled(w.publicClient, w.escrow, hash, [
      [w.a.channelId, 10n * USDC],
      [w.b.channelId, 50n * USDC],
      [w.c.channelId, 25n * USDC],
    ]);
  });

  it("test_settleBatch_same_channel_twice_pays_the_sum_of_increments", async () => {
    const w = await networkHelpers.loadFixture(batchWorld);
    const claims = [w.claims[0]!, { ...w.claims[0]!, cumulativeAmount: 30n * USDC, signature: await w.voucher(w.a.channelId, 30n * USDC) }];
    await expectTokenDeltas(w.token, [[w.payee.account.address, 30n * USDC]], () =>
      w.escrow.write.settleBatch([w.token.address, claims], { account: w.payee.account }),
    );
    assert.equal((await w.escrow.read.getChannel([w.a.channelId])).settled, 30n * USDC);
  });

  it("test_settleBatch_reverts_AmountNotIncreasing_for_repeated_claim", async () => {
    const w = await networkHelpers.loadFixture(batchWorld);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settleBatch([w.token.address, [w.claims[0]!, w.claims[0]!]], { account: w.payee.account }),
      w.escrow,
      "AmountNotIncreasing",
      [10n * USDC, 10n * USDC],
    );
  });

  it("test_settleBatch_empty_batch_returns_zero_and_transfers_nothing", async () => {
    const w = await networkHelpers.loadFixture(batchWorld);
    const { result } = await w.escrow.simulate.settleBatch([w.token.address, []], { account: w.payee.account.address });
    assert.equal(result, 0n);
    const hash = await w.escrow.write.settleBatch([w.token.address, []], { account: w.payee.account });
    const receipt = await w.publicClient.waitForTransactionReceipt({ hash });
    assert.equal(receipt.status, "success");
    assert.deepEqual(receipt.logs, []);
  });

  it("test_settleBatch_reverts_TokenMismatch_for_channel_in_other_token", async () => {
    const w = await networkHelpers.loadFixture(batchWorld);
    const otherToken = await viem.deployContract("MockStablecoin", ["Other USD", "OUSD"]);
    await otherToken.write.mint([w.payer.account.address, 100n]);
    await otherToken.write.approve([w.escrow.address, 100n], { account: w.payer.account });
    const d = await w.openChannel({ token: otherToken.address, deposit: 100n });
    const claims = [...w.claims, { channelId: d.channelId, cumulativeAmount: 1n, signature: await w.voucher(d.channelId, 1n) }];
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settleBatch([w.token.address, claims], { account: w.payee.account }),
      w.escrow,
      "TokenMismatch",
      [d.channelId, otherToken.address, w.token.address],
    );
  });

  it("test_settleBatch_reverts_NotPayee_for_foreign_channel_in_batch", async () => {
    const w = await networkHelpers.loadFixture(batchWorld);
    const foreign = await w.openChannel({ payee: w.payee2.account.address });
    const claims = [
      w.claims[0]!,
      { channelId: foreign.channelId, cumulativeAmount: 1n, signature: await w.voucher(foreign.channelId, 1n) },
    ];
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settleBatch([w.token.address, claims], { account: w.payee.account }),
      w.escrow,
      "NotPayee",
      [w.payee.account.address, w.payee2.account.address],
    );
  });

  it("test_settleBatch_reverts_atomically_on_one_bad_signature", async () => {
    const w = await networkHelpers.loadFixture(batchWorld);
    const bad = { ...w.claims[2]!, signature: await w.voucher(w.c.channelId, 25n * USDC, w.payer.account.address) };
    const before = await Promise.all([w.a, w.b, w.c].map((x) => w.escrow.read.getChannel([x.channelId])));
    await expectTokenDeltas(w.token, [[w.payee.account.address, 0n]], () =>
      viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.settleBatch([w.token.address, [w.claims[0]!, w.claims[1]!, bad]], { account: w.payee.account }),
        w.escrow,
        "InvalidSignature",
        [w.sessionKeyHolder.account.address],
      ),
    );
    const after = await Promise.all([w.a, w.b, w.c].map((x) => w.escrow.read.getChannel([x.channelId])));
    assert.deepEqual(after, before);
  });

  it("test_settleBatch_reverts_AmountExceedsDeposit", async () => {
    const w = await networkHelpers.loadFixture(batchWorld);
    const over = { channelId: w.b.channelId, cumulativeAmount: 50n * USDC + 1n, signature: await w.voucher(w.b.channelId, 50n * USDC + 1n, w.payer2.account.address) };
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settleBatch([w.token.address, [w.claims[0]!, over]], { account: w.payee.account }),
      w.escrow,
      "AmountExceedsDeposit",
      [50n * USDC + 1n, 50n * USDC],
    );
  });

  it("test_settleBatch_reverts_ChannelNotFound_for_unknown_id", async () => {
    const w = await networkHelpers.loadFixture(batchWorld);
    const unknown = bytes32(31337);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settleBatch(
        [w.token.address, [w.claims[0]!, { channelId: unknown, cumulativeAmount: 1n, signature: await w.voucher(unknown, 1n) }]],
        { account: w.payee.account },
      ),
      w.escrow,
      "ChannelNotFound",
      [unknown],
    );
  });

  it("test_settleBatch_reverts_ChannelFinalized_for_closed_channel", async () => {
    const w = await networkHelpers.loadFixture(batchWorld);
    await w.escrow.write.close([w.b.channelId, 0n, "0x"], { account: w.payee.account });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settleBatch([w.token.address, w.claims], { account: w.payee.account }),
      w.escrow,
      "ChannelFinalized",
      [w.b.channelId],
    );
  });

  it("test_settleBatch_of_one_channel_matches_settle", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 10n });
    const hash = await w.escrow.write.settleBatch(
      [w.token.address, [{ channelId: c.channelId, cumulativeAmount: 4n, signature: await w.voucher(c.channelId, 4n) }]],
      { account: w.payee.account },
    );
    await expectChannelSettled(w.publicClient, w.escrow, hash, [[c.channelId, 4n]]);
    assert.deepEqual(await transfersIn(w.publicClient, w.token.address, hash), [
      { from: getAddress(w.escrow.address), to: getAddress(w.payee.account.address), value: 4n },
    ]);
  });
});
