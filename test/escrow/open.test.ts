import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress } from "viem";
import {
  MAX_DEPOSIT,
  UINT128_MAX,
  USDC,
  ZERO,
  channelIdOf,
  deployEscrowWorld,
  expectTokenDeltas,
  nextSalt,
  normalizeChannel,
  transfersIn,
} from "./helpers.js";

const { viem, networkHelpers } = await network.create();

async function escrowWorld() {
  return deployEscrowWorld(viem);
}

describe("TollgateEscrow.open", () => {
  it("test_open_records_channel_with_caller_as_payer", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 250n * USDC });
    const channel = normalizeChannel(await w.escrow.read.getChannel([c.channelId]));
    assert.deepEqual(channel, {
      payer: getAddress(w.payer.account.address),
      payee: getAddress(w.payee.account.address),
      token: getAddress(w.token.address),
      authorizedSigner: ZERO,
      deposit: 250n * USDC,
      settled: 0n,
      closeRequestedAt: 0n,
      finalized: false,
    });
  });

  it("test_open_returns_computeChannelId_of_its_inputs", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const salt = nextSalt();
    const signer = w.sessionKeyHolder.account.address;
    const { result } = await w.escrow.simulate.open([w.payee.account.address, w.token.address, 5n, salt, signer], {
      account: w.payer.account.address,
    });
    const viewed = await w.escrow.read.computeChannelId([
      w.payer.account.address,
      w.payee.account.address,
      w.token.address,
      salt,
      signer,
    ]);
    assert.equal(result, viewed);
    assert.equal(
      result,
      channelIdOf(w.payer.account.address, w.payee.account.address, w.token.address, salt, signer, w.escrow.address),
    );
  });

  it("test_open_emits_ChannelOpened_with_exact_args", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const salt = nextSalt();
    const signer = w.sessionKeyHolder.account.address;
    const channelId = channelIdOf(
      w.payer.account.address,
      w.payee.account.address,
      w.token.address,
      salt,
      signer,
      w.escrow.address,
    );
    await viem.assertions.emitWithArgs(
      w.escrow.write.open([w.payee.account.address, w.token.address, 42n * USDC, salt, signer], {
        account: w.payer.account,
      }),
      w.escrow,
      "ChannelOpened",
      [channelId, w.payer.account.address, w.payee.account.address, w.token.address, signer, 42n * USDC],
    );
  });

  it("test_open_pulls_deposit_from_payer_into_escrow", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    let hash: `0x${string}` | undefined;
    await expectTokenDeltas(
      w.token,
      [
        [w.payer.account.address, -77n * USDC],
        [w.escrow.address, 77n * USDC],
        [w.payee.account.address, 0n],
      ],
      async () => {
        hash = (await w.openChannel({ deposit: 77n * USDC })).hash;
      },
    );
    const transfers = await transfersIn(w.publicClient, w.token.address, hash!);
    assert.deepEqual(transfers, [
      { from: getAddress(w.payer.account.address), to: getAddress(w.escrow.address), value: 77n * USDC },
    ]);
  });

  it("test_open_stores_authorizedSigner", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const signer = getAddress(w.sessionKeyHolder.account.address);
    const c = await w.openChannel({ authorizedSigner: signer });
    const channel = await w.escrow.read.getChannel([c.channelId]);
    assert.equal(getAddress(channel.authorizedSigner), signer);
  });

  it("test_open_reverts_InvalidPayee_for_zero_payee", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.open([ZERO, w.token.address, USDC, nextSalt(), ZERO], { account: w.payer.account }),
      w.escrow,
      "InvalidPayee",
      [ZERO],
    );
  });

  it("test_open_reverts_ZeroDeposit", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.open([w.payee.account.address, w.token.address, 0n, nextSalt(), ZERO], {
        account: w.payer.account,
      }),
      w.escrow,
      "ZeroDeposit",
      [],
    );
  });

  it("test_open_accepts_deposit_of_one_base_unit", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 1n });
    assert.equal((await w.escrow.read.getChannel([c.channelId])).deposit, 1n);
  });

  it("test_open_accepts_MAX_DEPOSIT_exactly", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    assert.equal(await w.escrow.read.MAX_DEPOSIT(), MAX_DEPOSIT);
    await w.token.write.mint([w.payer.account.address, MAX_DEPOSIT]);
    const c = await w.openChannel({ deposit: MAX_DEPOSIT });
    assert.equal((await w.escrow.read.getChannel([c.channelId])).deposit, MAX_DEPOSIT);
    assert.equal(await w.token.read.balanceOf([w.escrow.address]), MAX_DEPOSIT);
  });

  it("test_open_reverts_DepositOverflow_at_MAX_DEPOSIT_plus_one", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    await w.token.write.mint([w.payer.account.address, MAX_DEPOSIT + 1n]);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.open([w.payee.account.address, w.token.address, MAX_DEPOSIT + 1n, nextSalt(), ZERO], {
        account: w.payer.account,
      }),
      w.escrow,
      "DepositOverflow",
      [MAX_DEPOSIT + 1n, MAX_DEPOSIT],
    );
  });

  it("test_open_reverts_DepositOverflow_at_uint128_max", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.open([w.payee.account.address, w.token.address, UINT128_MAX, nextSalt(), ZERO], {
        account: w.payer.account,
      }),
      w.escrow,
      "DepositOverflow",
      [UINT128_MAX, MAX_DEPOSIT],
    );
  });

  it("test_open_reverts_ChannelAlreadyExists_for_same_parameters", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel();
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.open([c.payee, c.token, 1n, c.salt, c.authorizedSigner], { account: w.payer.account }),
      w.escrow,
      "ChannelAlreadyExists",
      [c.channelId],
    );
  });

  it("test_open_same_salt_with_other_payer_payee_or_signer_is_a_distinct_channel", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const salt = nextSalt();
    const ids = new Set<string>();
    ids.add((await w.openChannel({ salt })).channelId);
    ids.add((await w.openChannel({ salt, payer: w.payer2 })).channelId);
    ids.add((await w.openChannel({ salt, payee: w.payee2.account.address })).channelId);
    ids.add((await w.openChannel({ salt, authorizedSigner: w.sessionKeyHolder.account.address })).channelId);
    assert.equal(ids.size, 4);
    for (const id of ids) assert.equal((await w.escrow.read.getChannel([id as `0x${string}`])).deposit, 100n * USDC);
  });

  it("test_open_reverts_without_allowance_and_records_nothing", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    await w.token.write.approve([w.escrow.address, USDC - 1n], { account: w.payer.account });
    const salt = nextSalt();
    await viem.assertions.revertWithCustomErrorWithArgs(
      w.escrow.write.open([w.payee.account.address, w.token.address, USDC, salt, ZERO], { account: w.payer.account }),
      w.token,
      "ERC20InsufficientAllowance",
      [w.escrow.address, USDC - 1n, USDC],
    );
    const id = channelIdOf(w.payer.account.address, w.payee.account.address, w.token.address, salt, ZERO, w.escrow.address);
    assert.equal(getAddress((await w.escrow.read.getChannel([id])).payer), ZERO);
  });
});
