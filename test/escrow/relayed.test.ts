// The Relayed / Gasless Operations profile: EIP-3009 funded open/topUp and payee-authorized settle/close.
import assert from "node:assert/strict";
import { network } from "hardhat";
import type { Address, Hex } from "viem";
import { BaseError, ContractFunctionRevertedError, getAddress, maxUint256 } from "viem";
import {
  MAX_DEPOSIT,
  USDC,
  ZERO,
  bytes32,
  channelIdOf,
  deployEscrowWorld,
  expectChannelSettled,
  expectTokenDeltas,
  keyOf,
  nextSalt,
  openNonce,
  signPayeeAuthorization,
  signReceiveAuthorization,
  topUpNonce,
  type EscrowWorld,
  type PayeeAuthorizationKind,
} from "./helpers.js";

const { viem, networkHelpers } = await network.create();

async function escrowWorld() {
  return deployEscrowWorld(viem);
}

type OpenAuthorization = {
  payee: Address;
  token: Address;
  deposit: bigint;
  salt: Hex;
  authorizedSigner: Address;
  from: Address;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
  signature: Hex;
};

/** What the payer signs for a relayed open: a ReceiveWithAuthorization to the escrow with the derived nonce. */
async function signOpen(w: EscrowWorld, overrides: Partial<Omit<OpenAuthorization, "nonce" | "signature">> = {}) {
  const a = {
    payee: getAddress(w.payee.account.address),
    token: getAddress(w.token.address),
    deposit: 60n * USDC,
    salt: nextSalt(),
    authorizedSigner: ZERO as Address,
    from: getAddress(w.payer.account.address),
    validAfter: 0n,
    validBefore: maxUint256,
    ...overrides,
  };
  const nonce = openNonce(a.from, a.payee, a.token, a.salt, a.authorizedSigner);
  const signature = await signReceiveAuthorization(keyOf(a.from), w.token, {
    from: a.from,
    to: w.escrow.address,
    value: a.deposit,
    validAfter: a.validAfter,
    validBefore: a.validBefore,
    nonce,
  });
  return { ...a, nonce, signature };
}

function openArgs(a: OpenAuthorization) {
  return [
    a.payee,
    a.token,
    a.deposit,
    a.salt,
    a.authorizedSigner,
    a.from,
    a.validAfter,
    a.validBefore,
    a.nonce,
    a.signature,
  ] as const;
}

/** A payer-signed EIP-3009 top-up of `channelId`. */
async function signTopUp(
  w: EscrowWorld,
  channelId: Hex,
  amount: bigint,
  from: Address = w.payer.account.address,
  topUpSalt: Hex = nextSalt(),
) {
  const nonce = topUpNonce(channelId, amount, from, topUpSalt);
  const signature = await signReceiveAuthorization(keyOf(from), w.token, {
    from,
    to: w.escrow.address,
    value: amount,
    validAfter: 0n,
    validBefore: maxUint256,
    nonce,
  });
  return { channelId, amount, from, topUpSalt, nonce, signature };
}

function topUpArgs(t: Awaited<ReturnType<typeof signTopUp>>) {
  return [t.channelId, t.amount, t.from, t.topUpSalt, 0n, maxUint256, t.nonce, t.signature] as const;
}

/** The payee's EIP-712 authorization plus the payer's voucher for a relayed settle or close. */
async function payeeAuthorized(
  w: EscrowWorld,
  kind: PayeeAuthorizationKind,
  channelId: Hex,
  cumulativeAmount: bigint,
  options: { nonce?: bigint; deadline?: bigint; payeeKey?: Address; voucherSigner?: Address; emptyVoucher?: boolean } = {},
) {
  const nonce = options.nonce ?? 1n;
  const deadline = options.deadline ?? maxUint256;
  const payeeSignature = await signPayeeAuthorization(
    keyOf(options.payeeKey ?? w.payee.account.address),
    kind,
    w.escrow.address,
    { channelId, cumulativeAmount, nonce, deadline },
  );
  const voucherSignature: Hex = options.emptyVoucher
    ? "0x"
    : await w.voucher(channelId, cumulativeAmount, options.voucherSigner ?? w.payer.account.address);
  return [channelId, cumulativeAmount, nonce, deadline, payeeSignature, voucherSignature] as const;
}

describe("TollgateEscrow.openWithAuthorization", () => {
  it("test_openWithAuthorization_opens_channel_for_from_submitted_by_relayer", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const a = await signOpen(w, { authorizedSigner: getAddress(w.sessionKeyHolder.account.address) });
    const channelId = channelIdOf(a.from, a.payee, a.token, a.salt, a.authorizedSigner, w.escrow.address);
    let hash: Hex = "0x";
    await expectTokenDeltas(
      w.token,
      [
        [a.from, -a.deposit],
        [w.escrow.address, a.deposit],
        [w.relayer.account.address, 0n],
      ],
      async () => {
        hash = await w.escrow.write.openWithAuthorization(openArgs(a), { account: w.relayer.account });
      },
    );
    await viem.assertions.emitWithArgs(Promise.resolve(hash), w.escrow, "ChannelOpened", [
      channelId,
      a.from,
      a.payee,
      a.token,
      a.authorizedSigner,
      a.deposit,
    ]);
    const channel = await w.escrow.read.getChannel([channelId]);
    assert.equal(getAddress(channel.payer), a.from);
    assert.equal(channel.deposit, a.deposit);
    assert.equal(await w.token.read.authorizationState([a.from, a.nonce]), true);
  });

  it("test_openWithAuthorization_returns_channelId", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const a = await signOpen(w);
    const { result } = await w.escrow.simulate.openWithAuthorization(openArgs(a), {
      account: w.relayer.account.address,
    });
    assert.equal(result, channelIdOf(a.from, a.payee, a.token, a.salt, a.authorizedSigner, w.escrow.address));
  });

  for (const field of ["payee", "salt", "authorizedSigner", "token", "from"] as const) {
    it(`test_openWithAuthorization_reverts_NonceMismatch_for_substituted_${field}`, async () => {
      const w = await networkHelpers.loadFixture(escrowWorld);
      const a = await signOpen(w);
      const substitute: Record<typeof field, Address | Hex> = {
        payee: getAddress(w.other.account.address),
        salt: nextSalt(),
        authorizedSigner: getAddress(w.other.account.address),
        token: getAddress(w.escrow.address),
        from: getAddress(w.payer2.account.address),
      };
      const forged = { ...a, [field]: substitute[field] };
      const expected = openNonce(forged.from, forged.payee, forged.token, forged.salt, forged.authorizedSigner);
      assert.notEqual(expected, a.nonce);
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.openWithAuthorization(openArgs(forged), { account: w.relayer.account }),
        w.escrow,
        "NonceMismatch",
        [expected, a.nonce],
      );
    });
  }

  it("test_openWithAuthorization_substituted_deposit_fails_at_token", async () => {
    // The open nonce does not cover the amount; the token's own signature check does.
    const w = await networkHelpers.loadFixture(escrowWorld);
    const a = await signOpen(w);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.openWithAuthorization(openArgs({ ...a, deposit: a.deposit + 1n }), { account: w.relayer.account }),
      w.token,
      "InvalidAuthorizationSignature",
      [a.from],
    );
  });

  it("test_openWithAuthorization_reverts_InvalidPayer_for_zero_from", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const a = await signOpen(w);
    const forged = { ...a, from: ZERO as Address };
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.openWithAuthorization(
        openArgs({ ...forged, nonce: openNonce(ZERO, a.payee, a.token, a.salt, a.authorizedSigner) }),
        { account: w.relayer.account },
      ),
      w.escrow,
      "InvalidPayer",
      [ZERO],
    );
  });

  it("test_openWithAuthorization_reverts_InvalidPayee_for_zero_payee", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const a = await signOpen(w, { payee: ZERO });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.openWithAuthorization(openArgs(a), { account: w.relayer.account }),
      w.escrow,
      "InvalidPayee",
      [ZERO],
    );
  });

  it("test_openWithAuthorization_reverts_ZeroDeposit", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const a = await signOpen(w, { deposit: 0n });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.openWithAuthorization(openArgs(a), { account: w.relayer.account }),
      w.escrow,
      "ZeroDeposit",
      [],
    );
  });

  it("test_openWithAuthorization_reverts_DepositOverflow_at_MAX_DEPOSIT_plus_one", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const a = await signOpen(w, { deposit: MAX_DEPOSIT + 1n });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.openWithAuthorization(openArgs(a), { account: w.relayer.account }),
      w.escrow,
      "DepositOverflow",
      [MAX_DEPOSIT + 1n, MAX_DEPOSIT],
    );
  });

  it("test_openWithAuthorization_reverts_ChannelAlreadyExists_on_replay", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const a = await signOpen(w);
    await w.escrow.write.openWithAuthorization(openArgs(a), { account: w.relayer.account });
    const channelId = channelIdOf(a.from, a.payee, a.token, a.salt, a.authorizedSigner, w.escrow.address);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.openWithAuthorization(openArgs(a), { account: w.other.account }),
      w.escrow,
      "ChannelAlreadyExists",
      [channelId],
    );
  });

  it("test_openWithAuthorization_reverts_ChannelAlreadyExists_after_plain_open_with_same_params", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel();
    const a = await signOpen(w, { salt: c.salt });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.openWithAuthorization(openArgs(a), { account: w.relayer.account }),
      w.escrow,
      "ChannelAlreadyExists",
      [c.channelId],
    );
  });

  it("test_openWithAuthorization_front_run_at_token_by_other_caller_fails", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const a = await signOpen(w);
    // Lifting the signature from the mempool and calling the token directly: only the escrow may receive.
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.token.write.receiveWithAuthorization(
        [a.from, w.escrow.address, a.deposit, a.validAfter, a.validBefore, a.nonce, a.signature],
        { account: w.other.account },
      ),
      w.token,
      "CallerNotPayee",
      [w.other.account.address, w.escrow.address],
    );
    // Nor can it be redirected through transferWithAuthorization (different typehash).
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.token.write.transferWithAuthorization(
        [a.from, w.escrow.address, a.deposit, a.validAfter, a.validBefore, a.nonce, a.signature],
        { account: w.other.account },
      ),
      w.token,
      "InvalidAuthorizationSignature",
      [a.from],
    );
    assert.equal(await w.token.read.authorizationState([a.from, a.nonce]), false);
    // The relayer's submission still goes through.
    await w.escrow.write.openWithAuthorization(openArgs(a), { account: w.relayer.account });
  });

  it("test_openWithAuthorization_expired_authorization_fails_at_token", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const now = BigInt(await networkHelpers.time.latest());
    const a = await signOpen(w, { validBefore: now + 10n });
    await networkHelpers.time.setNextBlockTimestamp(now + 10n);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.openWithAuthorization(openArgs(a), { account: w.relayer.account }),
      w.token,
      "AuthorizationExpired",
      [now + 10n, now + 10n],
    );
  });
});

describe("TollgateEscrow.topUpWithAuthorization", () => {
  it("test_topUpWithAuthorization_adds_funds_from_signer_submitted_by_relayer", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 10n });
    const t = await signTopUp(w, c.channelId, 5n);
    let hash: Hex = "0x";
    await expectTokenDeltas(
      w.token,
      [
        [w.payer.account.address, -5n],
        [w.escrow.address, 5n],
        [w.relayer.account.address, 0n],
      ],
      async () => {
        hash = await w.escrow.write.topUpWithAuthorization(topUpArgs(t), { account: w.relayer.account });
      },
    );
    await viem.assertions.emitWithArgs(Promise.resolve(hash), w.escrow, "ChannelToppedUp", [c.channelId, 5n, 15n]);
    assert.equal((await w.escrow.read.getChannel([c.channelId])).deposit, 15n);
  });

  it("test_topUpWithAuthorization_by_third_party_funder_still_refunds_the_payer", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 10n });
    const t = await signTopUp(w, c.channelId, 7n, w.payer2.account.address);
    await w.escrow.write.topUpWithAuthorization(topUpArgs(t), { account: w.relayer.account });
    const channel = await w.escrow.read.getChannel([c.channelId]);
    assert.equal(getAddress(channel.payer), getAddress(w.payer.account.address));
    await expectTokenDeltas(
      w.token,
      [
        [w.payer.account.address, 17n],
        [w.payer2.account.address, 0n],
      ],
      () => w.escrow.write.close([c.channelId, 0n, "0x"], { account: w.payee.account }),
    );
  });

  it("test_topUpWithAuthorization_cancels_pending_close", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel();
    await w.escrow.write.requestClose([c.channelId], { account: w.payer.account });
    const t = await signTopUp(w, c.channelId, 1n);
    await viem.assertions.emitWithArgs(
      w.escrow.write.topUpWithAuthorization(topUpArgs(t), { account: w.relayer.account }),
      w.escrow,
      "CloseRequestCancelled",
      [c.channelId],
    );
    assert.equal((await w.escrow.read.getChannel([c.channelId])).closeRequestedAt, 0n);
  });

  it("test_topUpWithAuthorization_from_third_party_cannot_cancel_payers_pending_close", async () => {
    // The payer starts a forced close because the payee stopped answering. If anyone else's top-up could
    // reset closeRequestedAt, the payee could keep the payer's deposit locked for ever at the cost of one
    // base unit per request (top up 1 from its own balance each time the payer asks to close).
    // Either outcome is acceptable here: the third-party top-up reverts, or it lands without cancelling.
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await w.token.write.mint([w.payee.account.address, 1n]);
    const requestedAt = BigInt(await networkHelpers.time.latest()) + 5n;
    await networkHelpers.time.setNextBlockTimestamp(requestedAt);
    await w.escrow.write.requestClose([c.channelId], { account: w.payer.account });

    const griefing = await signTopUp(w, c.channelId, 1n, w.payee.account.address);
    try {
      await w.escrow.write.topUpWithAuthorization(topUpArgs(griefing), { account: w.payee.account });
      assert.equal((await w.escrow.read.getChannel([c.channelId])).deposit, 101n);
    } catch (error) {
      // A fix that rejects such top-ups must do so with one of the escrow's own errors.
      const reverted = error instanceof BaseError ? error.walk((e) => e instanceof ContractFunctionRevertedError) : null;
      assert.ok(reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName !== undefined, String(error));
    }

    assert.equal(
      (await w.escrow.read.getChannel([c.channelId])).closeRequestedAt,
      requestedAt,
      "a top-up funded by someone other than the payer cancelled the payer's forced close",
    );
    await networkHelpers.time.setNextBlockTimestamp(requestedAt + 900n);
    await w.escrow.write.withdraw([c.channelId], { account: w.payer.account });
  });

  for (const field of ["amount", "topUpSalt", "from", "channelId"] as const) {
    it(`test_topUpWithAuthorization_reverts_NonceMismatch_for_substituted_${field}`, async () => {
      const w = await networkHelpers.loadFixture(escrowWorld);
      const c = await w.openChannel();
      const other = await w.openChannel();
      const t = await signTopUp(w, c.channelId, 5n);
      const substitute = {
        amount: 6n,
        topUpSalt: nextSalt(),
        from: getAddress(w.payer2.account.address),
        channelId: other.channelId,
      };
      const forged = { ...t, [field]: substitute[field] };
      const expected = topUpNonce(forged.channelId, forged.amount, forged.from, forged.topUpSalt);
      assert.notEqual(expected, t.nonce);
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.topUpWithAuthorization(topUpArgs(forged), { account: w.relayer.account }),
        w.escrow,
        "NonceMismatch",
        [expected, t.nonce],
      );
    });
  }

  it("test_topUpWithAuthorization_replay_fails_at_token", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 10n });
    const t = await signTopUp(w, c.channelId, 5n);
    await w.escrow.write.topUpWithAuthorization(topUpArgs(t), { account: w.relayer.account });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.topUpWithAuthorization(topUpArgs(t), { account: w.other.account }),
      w.token,
      "AuthorizationAlreadyUsed",
      [t.from, t.nonce],
    );
    assert.equal((await w.escrow.read.getChannel([c.channelId])).deposit, 15n);
  });

  it("test_topUpWithAuthorization_reverts_ChannelNotFound_for_unknown_id", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const unknown = bytes32(5150);
    const t = await signTopUp(w, unknown, 5n);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.topUpWithAuthorization(topUpArgs(t), { account: w.relayer.account }),
      w.escrow,
      "ChannelNotFound",
      [unknown],
    );
  });

  it("test_topUpWithAuthorization_reverts_ZeroDeposit", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel();
    const t = await signTopUp(w, c.channelId, 0n);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.topUpWithAuthorization(topUpArgs(t), { account: w.relayer.account }),
      w.escrow,
      "ZeroDeposit",
      [],
    );
  });

  it("test_topUpWithAuthorization_reverts_DepositOverflow_one_past_MAX_DEPOSIT", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 10n });
    const t = await signTopUp(w, c.channelId, MAX_DEPOSIT - 9n);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.topUpWithAuthorization(topUpArgs(t), { account: w.relayer.account }),
      w.escrow,
      "DepositOverflow",
      [MAX_DEPOSIT + 1n, MAX_DEPOSIT],
    );
  });
});

describe("TollgateEscrow.settleWithAuthorization", () => {
  it("test_settleWithAuthorization_by_relayer_pays_payee", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    const args = await payeeAuthorized(w, "settle", c.channelId, 40n, { nonce: 7n });
    assert.equal(await w.escrow.read.isPayeeNonceUsed([c.payee, c.channelId, 7n]), false);
    let hash: Hex = "0x";
    await expectTokenDeltas(
      w.token,
      [
        [w.payee.account.address, 40n],
        [w.relayer.account.address, 0n],
        [w.escrow.address, -40n],
      ],
      async () => {
        hash = await w.escrow.write.settleWithAuthorization(args, { account: w.relayer.account });
      },
    );
    await expectChannelSettled(w.publicClient, w.escrow, hash, [[c.channelId, 40n]]);
    assert.equal(await w.escrow.read.isPayeeNonceUsed([c.payee, c.channelId, 7n]), true);
    assert.equal(await w.escrow.read.isPayeeNonceUsed([c.payee, c.channelId, 8n]), false);
    assert.equal((await w.escrow.read.getChannel([c.channelId])).settled, 40n);
  });

  it("test_settleWithAuthorization_reverts_NonceAlreadyUsed_on_reuse", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await w.escrow.write.settleWithAuthorization(await payeeAuthorized(w, "settle", c.channelId, 10n, { nonce: 3n }), {
      account: w.relayer.account,
    });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settleWithAuthorization(await payeeAuthorized(w, "settle", c.channelId, 20n, { nonce: 3n }), {
        account: w.relayer.account,
      }),
      w.escrow,
      "NonceAlreadyUsed",
      [c.payee, c.channelId, 3n],
    );
  });

  it("test_settleWithAuthorization_nonce_is_scoped_per_channel", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const a = await w.openChannel({ deposit: 100n });
    const b = await w.openChannel({ deposit: 100n });
    await w.escrow.write.settleWithAuthorization(await payeeAuthorized(w, "settle", a.channelId, 10n, { nonce: 1n }), {
      account: w.relayer.account,
    });
    await w.escrow.write.settleWithAuthorization(await payeeAuthorized(w, "settle", b.channelId, 10n, { nonce: 1n }), {
      account: w.relayer.account,
    });
    assert.equal((await w.escrow.read.getChannel([b.channelId])).settled, 10n);
  });

  it("test_settleWithAuthorization_succeeds_at_deadline_exactly", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    const deadline = BigInt(await networkHelpers.time.latest()) + 60n;
    const args = await payeeAuthorized(w, "settle", c.channelId, 10n, { deadline });
    await networkHelpers.time.setNextBlockTimestamp(deadline);
    await w.escrow.write.settleWithAuthorization(args, { account: w.relayer.account });
    assert.equal((await w.escrow.read.getChannel([c.channelId])).settled, 10n);
  });

  it("test_settleWithAuthorization_reverts_AuthorizationExpired_at_deadline_plus_one", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    const deadline = BigInt(await networkHelpers.time.latest()) + 60n;
    const args = await payeeAuthorized(w, "settle", c.channelId, 10n, { deadline });
    await networkHelpers.time.setNextBlockTimestamp(deadline + 1n);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settleWithAuthorization(args, { account: w.relayer.account }),
      w.escrow,
      "AuthorizationExpired",
      [deadline, deadline + 1n],
    );
  });

  it("test_settleWithAuthorization_reverts_InvalidSignature_payee_for_wrong_payee_signer", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    for (const key of [w.other.account.address, w.payer.account.address]) {
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.settleWithAuthorization(await payeeAuthorized(w, "settle", c.channelId, 10n, { payeeKey: key }), {
          account: w.relayer.account,
        }),
        w.escrow,
        "InvalidSignature",
        [c.payee],
      );
    }
  });

  it("test_settleWithAuthorization_reverts_InvalidSignature_payee_for_close_authorization", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settleWithAuthorization(await payeeAuthorized(w, "close", c.channelId, 10n), {
        account: w.relayer.account,
      }),
      w.escrow,
      "InvalidSignature",
      [c.payee],
    );
  });

  it("test_settleWithAuthorization_reverts_InvalidSignature_payee_for_altered_amount_nonce_or_deadline", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    const [id, amount, nonce, deadline, payeeSignature] = await payeeAuthorized(w, "settle", c.channelId, 10n, {
      nonce: 5n,
      deadline: 10n ** 12n,
    });
    const altered = [
      [amount + 1n, nonce, deadline],
      [amount, nonce + 1n, deadline],
      [amount, nonce, deadline + 1n],
    ] as const;
    for (const [a, n, d] of altered) {
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.settleWithAuthorization([id, a, n, d, payeeSignature, await w.voucher(id, a)], {
          account: w.relayer.account,
        }),
        w.escrow,
        "InvalidSignature",
        [c.payee],
      );
    }
  });

  it("test_settleWithAuthorization_bad_voucher_reverts_InvalidSignature_payer_and_keeps_nonce_unused", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    const args = await payeeAuthorized(w, "settle", c.channelId, 10n, { nonce: 9n, voucherSigner: w.other.account.address });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settleWithAuthorization(args, { account: w.relayer.account }),
      w.escrow,
      "InvalidSignature",
      [c.payer],
    );
    assert.equal(await w.escrow.read.isPayeeNonceUsed([c.payee, c.channelId, 9n]), false);
  });

  it("test_settleWithAuthorization_reverts_AmountNotIncreasing_and_AmountExceedsDeposit", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await w.escrow.write.settle([c.channelId, 50n, await w.voucher(c.channelId, 50n)], { account: w.payee.account });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settleWithAuthorization(await payeeAuthorized(w, "settle", c.channelId, 50n, { nonce: 1n }), {
        account: w.relayer.account,
      }),
      w.escrow,
      "AmountNotIncreasing",
      [50n, 50n],
    );
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settleWithAuthorization(await payeeAuthorized(w, "settle", c.channelId, 101n, { nonce: 2n }), {
        account: w.relayer.account,
      }),
      w.escrow,
      "AmountExceedsDeposit",
      [101n, 100n],
    );
  });

  it("test_settleWithAuthorization_reverts_ChannelNotFound_for_unknown_id", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const unknown = bytes32(808);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settleWithAuthorization(await payeeAuthorized(w, "settle", unknown, 1n), {
        account: w.relayer.account,
      }),
      w.escrow,
      "ChannelNotFound",
      [unknown],
    );
  });
});

describe("TollgateEscrow.closeWithAuthorization", () => {
  it("test_closeWithAuthorization_by_relayer_pays_delta_and_refunds", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await w.escrow.write.settle([c.channelId, 10n, await w.voucher(c.channelId, 10n)], { account: w.payee.account });
    const args = await payeeAuthorized(w, "close", c.channelId, 60n, { nonce: 11n });
    let hash: Hex = "0x";
    await expectTokenDeltas(
      w.token,
      [
        [w.payee.account.address, 50n],
        [w.payer.account.address, 40n],
        [w.relayer.account.address, 0n],
        [w.escrow.address, -90n],
      ],
      async () => {
        hash = await w.escrow.write.closeWithAuthorization(args, { account: w.relayer.account });
      },
    );
    await viem.assertions.emitWithArgs(Promise.resolve(hash), w.escrow, "ChannelClosed", [c.channelId, 60n, 50n, 40n]);
    assert.equal(await w.escrow.read.isPayeeNonceUsed([c.payee, c.channelId, 11n]), true);
    assert.equal((await w.escrow.read.getChannel([c.channelId])).finalized, true);
  });

  it("test_closeWithAuthorization_forfeit_with_empty_voucher_refunds_rest", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await w.escrow.write.settle([c.channelId, 25n, await w.voucher(c.channelId, 25n)], { account: w.payee.account });
    const args = await payeeAuthorized(w, "close", c.channelId, 25n, { emptyVoucher: true });
    await expectTokenDeltas(
      w.token,
      [
        [w.payee.account.address, 0n],
        [w.payer.account.address, 75n],
      ],
      () => w.escrow.write.closeWithAuthorization(args, { account: w.relayer.account }),
    );
  });

  it("test_closeWithAuthorization_reverts_NonceAlreadyUsed_for_nonce_used_by_settle", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await w.escrow.write.settleWithAuthorization(await payeeAuthorized(w, "settle", c.channelId, 10n, { nonce: 42n }), {
      account: w.relayer.account,
    });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.closeWithAuthorization(await payeeAuthorized(w, "close", c.channelId, 20n, { nonce: 42n }), {
        account: w.relayer.account,
      }),
      w.escrow,
      "NonceAlreadyUsed",
      [c.payee, c.channelId, 42n],
    );
    // A fresh nonce closes.
    await w.escrow.write.closeWithAuthorization(await payeeAuthorized(w, "close", c.channelId, 20n, { nonce: 43n }), {
      account: w.relayer.account,
    });
  });

  it("test_closeWithAuthorization_succeeds_at_deadline_exactly", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    const deadline = BigInt(await networkHelpers.time.latest()) + 30n;
    const args = await payeeAuthorized(w, "close", c.channelId, 10n, { deadline });
    await networkHelpers.time.setNextBlockTimestamp(deadline);
    await w.escrow.write.closeWithAuthorization(args, { account: w.relayer.account });
    assert.equal((await w.escrow.read.getChannel([c.channelId])).finalized, true);
  });

  it("test_closeWithAuthorization_reverts_AuthorizationExpired_at_deadline_plus_one", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    const deadline = BigInt(await networkHelpers.time.latest()) + 30n;
    const args = await payeeAuthorized(w, "close", c.channelId, 10n, { deadline });
    await networkHelpers.time.setNextBlockTimestamp(deadline + 1n);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.closeWithAuthorization(args, { account: w.relayer.account }),
      w.escrow,
      "AuthorizationExpired",
      [deadline, deadline + 1n],
    );
  });

  it("test_closeWithAuthorization_reverts_InvalidSignature_payee_for_wrong_signer_or_settle_type", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    for (const args of [
      await payeeAuthorized(w, "close", c.channelId, 10n, { payeeKey: w.other.account.address }),
      await payeeAuthorized(w, "settle", c.channelId, 10n),
    ]) {
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.closeWithAuthorization(args, { account: w.relayer.account }),
        w.escrow,
        "InvalidSignature",
        [c.payee],
      );
    }
  });

  it("test_closeWithAuthorization_reverts_InvalidSignature_payer_for_missing_voucher_above_settled", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.closeWithAuthorization(await payeeAuthorized(w, "close", c.channelId, 1n, { emptyVoucher: true }), {
        account: w.relayer.account,
      }),
      w.escrow,
      "InvalidSignature",
      [c.payer],
    );
  });

  it("test_closeWithAuthorization_reverts_AmountExceedsDeposit", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.closeWithAuthorization(await payeeAuthorized(w, "close", c.channelId, 101n), {
        account: w.relayer.account,
      }),
      w.escrow,
      "AmountExceedsDeposit",
      [101n, 100n],
    );
  });

  it("test_closeWithAuthorization_reverts_ChannelNotFound_for_unknown_id", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const unknown = bytes32(909);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.closeWithAuthorization(await payeeAuthorized(w, "close", unknown, 0n, { emptyVoucher: true }), {
        account: w.relayer.account,
      }),
      w.escrow,
      "ChannelNotFound",
      [unknown],
    );
  });
});
