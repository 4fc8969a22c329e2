// Sticky finalization: once closed or withdrawn, a channel record never changes and can never be reopened.
import assert from "node:assert/strict";
import { network } from "hardhat";
import type { Hex } from "viem";
import { maxUint256 } from "viem";
import {
  deployEscrowWorld,
  keyOf,
  nextSalt,
  openNonce,
  signPayeeAuthorization,
  signReceiveAuthorization,
  topUpNonce,
} from "./helpers.js";

const { viem, networkHelpers } = await network.create();

async function closedWorld() {
  const w = await deployEscrowWorld(viem);
  const c = await w.openChannel({ deposit: 100n });
  await w.escrow.write.settle([c.channelId, 30n, await w.voucher(c.channelId, 30n)], { account: w.payee.account });
  await w.escrow.write.close([c.channelId, 60n, await w.voucher(c.channelId, 60n)], { account: w.payee.account });
  return { ...w, c, how: "close" as const };
}

async function withdrawnWorld() {
  const w = await deployEscrowWorld(viem);
  const c = await w.openChannel({ deposit: 100n });
  await w.escrow.write.settle([c.channelId, 30n, await w.voucher(c.channelId, 30n)], { account: w.payee.account });
  await w.escrow.write.requestClose([c.channelId], { account: w.payer.account });
  await networkHelpers.time.increase(900);
  await w.escrow.write.withdraw([c.channelId], { account: w.payer.account });
  return { ...w, c, how: "withdraw" as const };
}

type FinalWorld = Awaited<ReturnType<typeof closedWorld>> | Awaited<ReturnType<typeof withdrawnWorld>>;

/** Every mutating call on the finalized channel, each by the party that could otherwise make it. */
async function mutatingCalls(w: FinalWorld): Promise<Array<[string, () => Promise<Hex>]>> {
  const id = w.c.channelId;
  const payeeKey = keyOf(w.payee.account.address);
  const auth = (kind: "settle" | "close", amount: bigint, nonce: bigint) =>
    signPayeeAuthorization(payeeKey, kind, w.escrow.address, {
      channelId: id,
      cumulativeAmount: amount,
      nonce,
      deadline: maxUint256,
    });
  const topUpSalt = nextSalt();
  const from = w.payer.account.address;
  const nonce = topUpNonce(id, 10n, from, topUpSalt);
  const topUpSig = await signReceiveAuthorization(keyOf(from), w.token, {
    from,
    to: w.escrow.address,
    value: 10n,
    validAfter: 0n,
    validBefore: maxUint256,
    nonce,
  });
  const v90 = await w.voucher(id, 90n);
  const asPayee = { account: w.payee.account };
  const asPayer = { account: w.payer.account };
  const asRelayer = { account: w.relayer.account };
  const settleAuth = await auth("settle", 90n, 77n);
  const closeAuth = await auth("close", 90n, 78n);
  const forfeitAuth = await auth("close", 0n, 79n);
  return [
    ["settle", () => w.escrow.write.settle([id, 90n, v90], asPayee)],
    ["settleBatch", () => w.escrow.write.settleBatch([w.token.address, [{ channelId: id, cumulativeAmount: 90n, signature: v90 }]], asPayee)],
    ["close", () => w.escrow.write.close([id, 90n, v90], asPayee)],
    ["close (forfeit)", () => w.escrow.write.close([id, 0n, "0x"], asPayee)],
    ["requestClose", () => w.escrow.write.requestClose([id], asPayer)],
    ["withdraw", () => w.escrow.write.withdraw([id], asPayer)],
    ["topUp", () => w.escrow.write.topUp([id, 10n], asPayer)],
    ["topUpWithAuthorization", () => w.escrow.write.topUpWithAuthorization([id, 10n, from, topUpSalt, 0n, maxUint256, nonce, topUpSig], asRelayer)],
    ["settleWithAuthorization", () => w.escrow.write.settleWithAuthorization([id, 90n, 77n, maxUint256, settleAuth, v90], asRelayer)],
    ["closeWithAuthorization", () => w.escrow.write.closeWithAuthorization([id, 90n, 78n, maxUint256, closeAuth, v90], asRelayer)],
    ["closeWithAuthorization (forfeit)", () => w.escrow.write.closeWithAuthorization([id, 0n, 79n, maxUint256, forfeitAuth, "0x"], asRelayer)],
  ];
}

async function assertSticky(w: FinalWorld) {
  const id = w.c.channelId;
  const before = await w.escrow.read.getChannel([id]);
  assert.equal(before.finalized, true);
  const escrowBalance = await w.token.read.balanceOf([w.escrow.address]);

  for (const [name, call] of await mutatingCalls(w)) {
    await assert.doesNotReject(
      viem.assertions.revertWithCustomErrorWithArgs(call(), w.escrow, "ChannelFinalized", [id]),
      `${name} after ${w.how}`,
    );
  }

  // Re-opening with the same parameters would recreate the same channel id and voucher digests.
  await viem.assertions.revertWithCustomErrorWithArgs(
    w.escrow.write.open([w.c.payee, w.c.token, 100n, w.c.salt, w.c.authorizedSigner], { account: w.payer.account }),
    w.escrow,
    "ChannelAlreadyExists",
    [id],
  );
  const from = w.payer.account.address;
  const openNonceValue = openNonce(from, w.c.payee, w.c.token, w.c.salt, w.c.authorizedSigner);
  const openSig = await signReceiveAuthorization(keyOf(from), w.token, {
    from,
    to: w.escrow.address,
    value: 100n,
    validAfter: 0n,
    validBefore: maxUint256,
    nonce: openNonceValue,
  });
  await viem.assertions.revertWithCustomErrorWithArgs(
    w.escrow.write.openWithAuthorization(
      [w.c.payee, w.c.token, 100n, w.c.salt, w.c.authorizedSigner, from, 0n, maxUint256, openNonceValue, openSig],
      { account: w.relayer.account },
    ),
    w.escrow,
    "ChannelAlreadyExists",
    [id],
  );

  assert.deepEqual(await w.escrow.read.getChannel([id]), before);
  assert.equal(await w.token.read.balanceOf([w.escrow.address]), escrowBalance);
}

describe("TollgateEscrow finalization is sticky", () => {
  it("test_finalized_after_close_every_mutation_reverts_ChannelFinalized_and_reopen_reverts_ChannelAlreadyExists", async () => {
    const w = await networkHelpers.loadFixture(closedWorld);
    const channel = await w.escrow.read.getChannel([w.c.channelId]);
    assert.equal(channel.settled, 60n);
    assert.equal(await w.token.read.balanceOf([w.escrow.address]), 0n);
    await assertSticky(w);
  });

  it("test_finalized_after_withdraw_every_mutation_reverts_ChannelFinalized_and_reopen_reverts_ChannelAlreadyExists", async () => {
    const w = await networkHelpers.loadFixture(withdrawnWorld);
    const channel = await w.escrow.read.getChannel([w.c.channelId]);
    assert.equal(channel.settled, 30n);
    // Finalizing clears slot 1 and reuses closeRequestedAt's bits for the final settled.
    assert.deepEqual([channel.payee, channel.closeRequestedAt], ["0x0000000000000000000000000000000000000000", 0n]);
    await assertSticky(w);
  });

  it("test_finalized_channel_with_new_salt_opens_fresh_and_old_voucher_does_not_carry_over", async () => {
    const w = await networkHelpers.loadFixture(closedWorld);
    const fresh = await w.openChannel({ deposit: 100n });
    // A voucher from the finalized channel does not verify against the new id.
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settle([fresh.channelId, 60n, await w.voucher(w.c.channelId, 60n)], { account: w.payee.account }),
      w.escrow,
      "InvalidSignature",
      [w.payer.account.address],
    );
  });
});

