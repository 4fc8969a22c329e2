// Voucher and payee-authorization signature checks: canonical ECDSA only, domain binding, delegated
// signers and ERC-1271 contract wallets.
import assert from "node:assert/strict";
import { network } from "hardhat";
import {
  concat,
  encodeFunctionData,
  getAddress,
  keccak256,
  maxUint256,
  serializeCompactSignature,
  signatureToCompactSignature,
  parseSignature,
  toHex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  DOMAIN_NAME,
  USDC,
  VOUCHER_TYPES,
  deployEscrowWorld,
  ecrecoverPrecompile,
  expectTokenDeltas,
  highSTwin,
  keyOf,
  signPayeeAuthorization,
  signVoucher,
  splitSignature,
  voucherDigest,
  withV,
} from "./helpers.js";

const { viem, networkHelpers } = await network.create();

// A session key that never holds ETH: it only signs.
const sessionKey = privateKeyToAccount(keccak256(toHex("tollgate session key")));

async function escrowWorld() {
  return deployEscrowWorld(viem);
}

/** One open channel of 100 units, signed for by the payer. */
async function channelWorld() {
  const w = await deployEscrowWorld(viem);
  const c = await w.openChannel({ deposit: 100n });
  return { ...w, c };
}

/** A contract wallet owned by `other`, funded with tokens. */
async function walletWorld() {
  const w = await deployEscrowWorld(viem);
  const wallet = await viem.deployContract("MockERC1271Wallet", [w.other.account.address]);
  await w.token.write.mint([wallet.address, 1_000n * USDC]);
  return { ...w, wallet, owner: keyOf(w.other.account.address) };
}

describe("TollgateEscrow signatures", () => {
  it("test_settle_reverts_InvalidSignature_for_high_s_twin", async () => {
    const w = await networkHelpers.loadFixture(channelWorld);
    const sig = await w.voucher(w.c.channelId, 10n);
    const twin = highSTwin(sig);
    const digest = await w.escrow.read.getVoucherDigest([w.c.channelId, 10n]);
    // The twin is a working signature for ecrecover itself: only the escrow's low-s rule rejects it.
    assert.equal(await ecrecoverPrecompile(w.publicClient, digest, twin), getAddress(w.payer.account.address));
    assert.ok(splitSignature(twin).s > 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settle([w.c.channelId, 10n, twin], { account: w.payee.account }),
      w.escrow,
      "InvalidSignature",
      [w.payer.account.address],
    );
    await w.escrow.write.settle([w.c.channelId, 10n, sig], { account: w.payee.account });
  });

  it("test_close_reverts_InvalidSignature_for_high_s_twin", async () => {
    const w = await networkHelpers.loadFixture(channelWorld);
    const twin = highSTwin(await w.voucher(w.c.channelId, 10n));
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.close([w.c.channelId, 10n, twin], { account: w.payee.account }),
      w.escrow,
      "InvalidSignature",
      [w.payer.account.address],
    );
  });

  it("test_settleWithAuthorization_reverts_InvalidSignature_payee_for_high_s_payee_signature", async () => {
    const w = await networkHelpers.loadFixture(channelWorld);
    const message = { channelId: w.c.channelId, cumulativeAmount: 10n, nonce: 1n, deadline: maxUint256 };
    const payeeSig = await signPayeeAuthorization(keyOf(w.c.payee), "settle", w.escrow.address, message);
    const voucher = await w.voucher(w.c.channelId, 10n);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settleWithAuthorization([w.c.channelId, 10n, 1n, maxUint256, highSTwin(payeeSig), voucher], {
        account: w.relayer.account,
      }),
      w.escrow,
      "InvalidSignature",
      [w.c.payee],
    );
    await w.escrow.write.settleWithAuthorization([w.c.channelId, 10n, 1n, maxUint256, payeeSig, voucher], {
      account: w.relayer.account,
    });
  });

  it("test_settle_low_s_signatures_accepted_and_their_high_s_twins_rejected", async () => {
    // Every canonical signature from the signer has s <= n/2; the twin of each has s > n/2. Check a spread.
    const w = await networkHelpers.loadFixture(channelWorld);
    for (let amount = 1n; amount <= 5n; amount++) {
      const sig = await w.voucher(w.c.channelId, amount);
      assert.ok(splitSignature(sig).s <= 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n);
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.settle([w.c.channelId, amount, highSTwin(sig)], { account: w.payee.account }),
        w.escrow,
        "InvalidSignature",
        [w.payer.account.address],
      );
      await w.escrow.write.settle([w.c.channelId, amount, sig], { account: w.payee.account });
    }
  });

  it("test_settle_reverts_InvalidSignature_for_64_byte_compact_signature", async () => {
    const w = await networkHelpers.loadFixture(channelWorld);
    const sig = await w.voucher(w.c.channelId, 10n);
    const compact = serializeCompactSignature(signatureToCompactSignature(parseSignature(sig)));
    assert.equal((compact.length - 2) / 2, 64);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settle([w.c.channelId, 10n, compact], { account: w.payee.account }),
      w.escrow,
      "InvalidSignature",
      [w.payer.account.address],
    );
  });

  it("test_settle_reverts_InvalidSignature_for_66_byte_signature", async () => {
    const w = await networkHelpers.loadFixture(channelWorld);
    const sig = await w.voucher(w.c.channelId, 10n);
    for (const padded of [concat([sig, "0x00"]), concat(["0x00", sig])]) {
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.settle([w.c.channelId, 10n, padded], { account: w.payee.account }),
        w.escrow,
        "InvalidSignature",
        [w.payer.account.address],
      );
    }
  });

  for (const v of [0, 1, 29]) {
    it(`test_settle_reverts_InvalidSignature_for_v_${v}`, async () => {
      const w = await networkHelpers.loadFixture(channelWorld);
      const sig = await w.voucher(w.c.channelId, 10n);
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.settle([w.c.channelId, 10n, withV(sig, v)], { account: w.payee.account }),
        w.escrow,
        "InvalidSignature",
        [w.payer.account.address],
      );
    });
  }

  it("test_settle_reverts_InvalidSignature_for_recovery_id_form_of_v", async () => {
    // The right recovery id written as 0/1 instead of 27/28 is still rejected.
    const w = await networkHelpers.loadFixture(channelWorld);
    const sig = await w.voucher(w.c.channelId, 10n);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settle([w.c.channelId, 10n, withV(sig, splitSignature(sig).v - 27)], { account: w.payee.account }),
      w.escrow,
      "InvalidSignature",
      [w.payer.account.address],
    );
  });

  it("test_settle_reverts_InvalidSignature_for_flipped_v", async () => {
    // The other recovery id recovers some unrelated address.
    const w = await networkHelpers.loadFixture(channelWorld);
    const sig = await w.voucher(w.c.channelId, 10n);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settle([w.c.channelId, 10n, withV(sig, 55 - splitSignature(sig).v)], { account: w.payee.account }),
      w.escrow,
      "InvalidSignature",
      [w.payer.account.address],
    );
  });

  it("test_settle_reverts_InvalidSignature_for_zero_r_and_s", async () => {
    const w = await networkHelpers.loadFixture(channelWorld);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settle([w.c.channelId, 10n, concat([toHex(0n, { size: 64 }), "0x1b"])], {
        account: w.payee.account,
      }),
      w.escrow,
      "InvalidSignature",
      [w.payer.account.address],
    );
  });

  it("test_settle_reverts_InvalidSignature_for_voucher_of_another_chain", async () => {
    const w = await networkHelpers.loadFixture(channelWorld);
    for (const chainId of [1, 8453, 31338]) {
      const foreign = await signVoucher(keyOf(w.c.payer), w.escrow.address, w.c.channelId, 10n, chainId);
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.settle([w.c.channelId, 10n, foreign], { account: w.payee.account }),
        w.escrow,
        "InvalidSignature",
        [w.payer.account.address],
      );
    }
  });

  it("test_settle_reverts_InvalidSignature_for_voucher_of_another_escrow", async () => {
    const w = await networkHelpers.loadFixture(channelWorld);
    const otherEscrow = await viem.deployContract("TollgateEscrow");
    assert.notEqual(await otherEscrow.read.domainSeparator(), await w.escrow.read.domainSeparator());
    // Same channel id and amount, but signed under the other escrow's domain.
    const foreign = await signVoucher(keyOf(w.c.payer), otherEscrow.address, w.c.channelId, 10n);
    assert.equal(await otherEscrow.read.getVoucherDigest([w.c.channelId, 10n]), voucherDigest(otherEscrow.address, w.c.channelId, 10n));
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settle([w.c.channelId, 10n, foreign], { account: w.payee.account }),
      w.escrow,
      "InvalidSignature",
      [w.payer.account.address],
    );
  });

  it("test_settle_reverts_InvalidSignature_for_wrong_domain_name_or_version", async () => {
    const w = await networkHelpers.loadFixture(channelWorld);
    const key = keyOf(w.c.payer);
    for (const domain of [
      { name: "EVM Payment Channels", version: "1" },
      { name: DOMAIN_NAME, version: "2" },
    ]) {
      const sig = await key.signTypedData({
        domain: { ...domain, chainId: 31337, verifyingContract: w.escrow.address },
        types: VOUCHER_TYPES,
        primaryType: "Voucher",
        message: { channelId: w.c.channelId, cumulativeAmount: 10n },
      });
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.settle([w.c.channelId, 10n, sig], { account: w.payee.account }),
        w.escrow,
        "InvalidSignature",
        [w.payer.account.address],
      );
    }
  });

  it("test_settle_reverts_InvalidSignature_for_wrong_signer", async () => {
    const w = await networkHelpers.loadFixture(channelWorld);
    for (const signer of [w.payee.account.address, w.payer2.account.address]) {
      await viem.assertions.revertWithCustomErrorWithArgs(
        w.escrow.write.settle([w.c.channelId, 10n, await w.voucher(w.c.channelId, 10n, signer)], {
          account: w.payee.account,
        }),
        w.escrow,
        "InvalidSignature",
        [w.payer.account.address],
      );
    }
  });

  it("test_settle_accepts_raw_signature_over_getVoucherDigest", async () => {
    const w = await networkHelpers.loadFixture(channelWorld);
    const digest = await w.escrow.read.getVoucherDigest([w.c.channelId, 10n]);
    const sig = await keyOf(w.c.payer).sign({ hash: digest });
    await w.escrow.write.settle([w.c.channelId, 10n, sig], { account: w.payee.account });
    assert.equal((await w.escrow.read.getChannel([w.c.channelId])).settled, 10n);
  });

  it("test_settle_with_session_key_rejects_payer_signature_and_accepts_session_key", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 100n, authorizedSigner: sessionKey.address });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settle([c.channelId, 10n, await w.voucher(c.channelId, 10n)], { account: w.payee.account }),
      w.escrow,
      "InvalidSignature",
      [sessionKey.address],
    );
    const sig = await signVoucher(sessionKey, w.escrow.address, c.channelId, 10n);
    await expectTokenDeltas(w.token, [[w.payee.account.address, 10n]], () =>
      w.escrow.write.settle([c.channelId, 10n, sig], { account: w.payee.account }),
    );
    // The high-s twin of the session key's signature is rejected too.
    const sig2 = await signVoucher(sessionKey, w.escrow.address, c.channelId, 20n);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.close([c.channelId, 20n, highSTwin(sig2)], { account: w.payee.account }),
      w.escrow,
      "InvalidSignature",
      [sessionKey.address],
    );
    await w.escrow.write.close([c.channelId, 20n, sig2], { account: w.payee.account });
  });

  it("test_settle_with_ERC1271_wallet_payer_valid_then_invalid_after_revocation", async () => {
    const w = await networkHelpers.loadFixture(walletWorld);
    const asOwner = { account: w.other.account };
    const salt = keccak256(toHex("wallet channel"));
    await w.wallet.write.execute(
      [w.token.address, encodeFunctionData({ abi: w.token.abi, functionName: "approve", args: [w.escrow.address, 100n] })],
      asOwner,
    );
    await w.wallet.write.execute(
      [
        w.escrow.address,
        encodeFunctionData({
          abi: w.escrow.abi,
          functionName: "open",
          args: [w.payee.account.address, w.token.address, 100n, salt, "0x0000000000000000000000000000000000000000"],
        }),
      ],
      asOwner,
    );
    const channelId = await w.escrow.read.computeChannelId([
      w.wallet.address,
      w.payee.account.address,
      w.token.address,
      salt,
      "0x0000000000000000000000000000000000000000",
    ]);
    assert.equal(getAddress((await w.escrow.read.getChannel([channelId])).payer), getAddress(w.wallet.address));

    // The owner's key signs; the escrow asks the wallet through ERC-1271.
    const sig10 = await signVoucher(w.owner, w.escrow.address, channelId, 10n);
    await w.escrow.write.settle([channelId, 10n, sig10], { account: w.payee.account });
    assert.equal((await w.escrow.read.getChannel([channelId])).settled, 10n);

    await w.wallet.write.setAcceptsSignatures([false], asOwner);
    const sig20 = await signVoucher(w.owner, w.escrow.address, channelId, 20n);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settle([channelId, 20n, sig20], { account: w.payee.account }),
      w.escrow,
      "InvalidSignature",
      [w.wallet.address],
    );

    // A forfeit close still works without a signature, refunding the wallet.
    await expectTokenDeltas(w.token, [[w.wallet.address, 90n]], () =>
      w.escrow.write.close([channelId, 0n, "0x"], { account: w.payee.account }),
    );
  });

  it("test_settle_with_ERC1271_wallet_payer_rejects_signature_of_non_owner", async () => {
    const w = await networkHelpers.loadFixture(walletWorld);
    const asOwner = { account: w.other.account };
    const salt = keccak256(toHex("wallet channel 2"));
    await w.wallet.write.execute(
      [w.token.address, encodeFunctionData({ abi: w.token.abi, functionName: "approve", args: [w.escrow.address, 100n] })],
      asOwner,
    );
    await w.wallet.write.execute(
      [
        w.escrow.address,
        encodeFunctionData({
          abi: w.escrow.abi,
          functionName: "open",
          args: [w.payee.account.address, w.token.address, 100n, salt, "0x0000000000000000000000000000000000000000"],
        }),
      ],
      asOwner,
    );
    const channelId = await w.escrow.read.computeChannelId([
      w.wallet.address,
      w.payee.account.address,
      w.token.address,
      salt,
      "0x0000000000000000000000000000000000000000",
    ]);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settle([channelId, 10n, await w.voucher(channelId, 10n, w.payer.account.address)], {
        account: w.payee.account,
      }),
      w.escrow,
      "InvalidSignature",
      [w.wallet.address],
    );
  });

  it("test_settle_with_ERC1271_wallet_as_authorizedSigner", async () => {
    const w = await networkHelpers.loadFixture(walletWorld);
    const c = await w.openChannel({ deposit: 100n, authorizedSigner: w.wallet.address });
    assert.equal(getAddress((await w.escrow.read.getChannel([c.channelId])).authorizedSigner), getAddress(w.wallet.address));
    // The payer's own key is not the delegated signer.
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settle([c.channelId, 10n, await w.voucher(c.channelId, 10n)], { account: w.payee.account }),
      w.escrow,
      "InvalidSignature",
      [w.wallet.address],
    );
    await w.escrow.write.settle([c.channelId, 10n, await signVoucher(w.owner, w.escrow.address, c.channelId, 10n)], {
      account: w.payee.account,
    });
    assert.equal((await w.escrow.read.getChannel([c.channelId])).settled, 10n);
    await w.wallet.write.setAcceptsSignatures([false], { account: w.other.account });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settle([c.channelId, 20n, await signVoucher(w.owner, w.escrow.address, c.channelId, 20n)], {
        account: w.payee.account,
      }),
      w.escrow,
      "InvalidSignature",
      [w.wallet.address],
    );
  });

  it("test_settleWithAuthorization_with_ERC1271_wallet_as_payee", async () => {
    const w = await networkHelpers.loadFixture(walletWorld);
    const c = await w.openChannel({ deposit: 100n, payee: w.wallet.address });
    const message = { channelId: c.channelId, cumulativeAmount: 30n, nonce: 1n, deadline: maxUint256 };
    const payeeSig = await signPayeeAuthorization(w.owner, "settle", w.escrow.address, message);
    await expectTokenDeltas(
      w.token,
      [
        [w.wallet.address, 30n],
        [w.relayer.account.address, 0n],
      ],
      async () =>
        w.escrow.write.settleWithAuthorization(
          [c.channelId, 30n, 1n, maxUint256, payeeSig, await w.voucher(c.channelId, 30n)],
          { account: w.relayer.account },
        ),
    );
    await w.wallet.write.setAcceptsSignatures([false], { account: w.other.account });
    const closeSig = await signPayeeAuthorization(w.owner, "close", w.escrow.address, { ...message, nonce: 2n });
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.closeWithAuthorization([c.channelId, 30n, 2n, maxUint256, closeSig, "0x"], {
        account: w.relayer.account,
      }),
      w.escrow,
      "InvalidSignature",
      [w.wallet.address],
    );
  });

  it("test_payee_authorization_of_another_escrow_domain_rejected", async () => {
    const w = await networkHelpers.loadFixture(channelWorld);
    const otherEscrow = await viem.deployContract("TollgateEscrow");
    const message = { channelId: w.c.channelId, cumulativeAmount: 10n, nonce: 1n, deadline: maxUint256 };
    const foreign = await signPayeeAuthorization(keyOf(w.c.payee), "settle", otherEscrow.address, message);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.settleWithAuthorization(
        [w.c.channelId, 10n, 1n, maxUint256, foreign, await w.voucher(w.c.channelId, 10n)],
        { account: w.relayer.account },
      ),
      w.escrow,
      "InvalidSignature",
      [w.c.payee],
    );
  });
});
