import assert from "node:assert/strict";
import { network } from "hardhat";
import type { Address, Hex } from "viem";
import { getAddress, hashDomain, keccak256, toHex, zeroAddress } from "viem";
import {
  CHAIN_ID,
  DOMAIN_NAME,
  DOMAIN_VERSION,
  MAX_DEPOSIT,
  UINT128_MAX,
  bytes32,
  channelIdOf,
  deployEscrowWorld,
  keyOf,
  normalizeChannel,
  signPayeeAuthorization,
  voucherDigest,
  voucherDomain,
} from "./helpers.js";

const { viem, networkHelpers } = await network.create();

async function escrowWorld() {
  return deployEscrowWorld(viem);
}

const A: Address = "0x1111111111111111111111111111111111111111";
const B: Address = "0x2222222222222222222222222222222222222222";
const T: Address = "0x3333333333333333333333333333333333333333";
const S: Address = "0x4444444444444444444444444444444444444444";

describe("TollgateEscrow views", () => {
  it("test_constants_CLOSE_GRACE_PERIOD_MAX_DEPOSIT_VOUCHER_TYPEHASH", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    assert.equal(await w.escrow.read.CLOSE_GRACE_PERIOD(), 900n);
    assert.equal(await w.escrow.read.MAX_DEPOSIT(), MAX_DEPOSIT);
    assert.equal(
      await w.escrow.read.VOUCHER_TYPEHASH(),
      keccak256(toHex("Voucher(bytes32 channelId,uint128 cumulativeAmount)")),
    );
  });

  it("test_computeChannelId_equals_abi_encoded_keccak_computed_offchain", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const cases: Array<[Address, Address, Address, Hex, Address]> = [
      [A, B, T, bytes32(0), zeroAddress],
      [A, B, T, bytes32(1), S],
      [B, A, T, bytes32(1), S],
      [A, B, S, `0x${"ff".repeat(32)}`, T],
      [getAddress(w.payer.account.address), getAddress(w.payee.account.address), w.token.address, keccak256(toHex("x")), zeroAddress],
    ];
    for (const [payer, payee, token, salt, signer] of cases) {
      assert.equal(
        await w.escrow.read.computeChannelId([payer, payee, token, salt, signer]),
        channelIdOf(payer, payee, token, salt, signer, w.escrow.address, CHAIN_ID),
      );
    }
  });

  it("test_computeChannelId_changes_with_every_input_and_the_escrow_address", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const base = [A, B, T, bytes32(7), S] as const;
    const variants: Array<readonly [Address, Address, Address, Hex, Address]> = [
      base,
      [S, B, T, bytes32(7), S],
      [A, S, T, bytes32(7), S],
      [A, B, S, bytes32(7), S],
      [A, B, T, bytes32(8), S],
      [A, B, T, bytes32(7), zeroAddress],
    ];
    const ids = await Promise.all(variants.map((v) => w.escrow.read.computeChannelId([...v])));
    assert.equal(new Set(ids).size, variants.length);
    const other = await viem.deployContract("TollgateEscrow");
    assert.notEqual(await other.read.computeChannelId([...base]), ids[0]);
  });

  it("test_getVoucherDigest_equals_viem_hashTypedData", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const ids: Hex[] = [bytes32(0), bytes32(1), keccak256(toHex("channel"))];
    const amounts = [0n, 1n, 10n ** 6n, 2n ** 96n - 1n, UINT128_MAX];
    for (const id of ids) {
      for (const amount of amounts) {
        assert.equal(await w.escrow.read.getVoucherDigest([id, amount]), voucherDigest(w.escrow.address, id, amount));
      }
    }
  });

  it("test_domainSeparator_equals_viem_hashDomain", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    assert.equal(
      await w.escrow.read.domainSeparator(),
      hashDomain({
        domain: { ...voucherDomain(w.escrow.address), chainId: BigInt(CHAIN_ID) },
        types: {
          EIP712Domain: [
            { name: "name", type: "string" },
            { name: "version", type: "string" },
            { name: "chainId", type: "uint256" },
            { name: "verifyingContract", type: "address" },
          ],
        },
      }),
    );
  });

  it("test_eip712Domain_ERC5267_reports_name_version_chain_and_contract", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const [fields, name, version, chainId, verifyingContract, salt, extensions] = await w.escrow.read.eip712Domain();
    assert.equal(fields, "0x0f");
    assert.equal(name, DOMAIN_NAME);
    assert.equal(version, DOMAIN_VERSION);
    assert.equal(chainId, BigInt(CHAIN_ID));
    assert.equal(getAddress(verifyingContract), getAddress(w.escrow.address));
    assert.equal(salt, bytes32(0));
    assert.deepEqual(extensions, []);
  });

  it("test_getChannel_of_unknown_id_is_all_zero", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    assert.deepEqual(normalizeChannel(await w.escrow.read.getChannel([bytes32(123)])), {
      payer: zeroAddress,
      payee: zeroAddress,
      token: zeroAddress,
      authorizedSigner: zeroAddress,
      deposit: 0n,
      settled: 0n,
      closeRequestedAt: 0n,
      finalized: false,
    });
  });

  it("test_getChannel_tracks_every_field_through_a_lifecycle", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const c = await w.openChannel({ deposit: 40n, authorizedSigner: w.payer.account.address });
    const view = async () => normalizeChannel(await w.escrow.read.getChannel([c.channelId]));
    const opened = await view();
    assert.equal(opened.authorizedSigner, getAddress(w.payer.account.address));
    await w.escrow.write.topUp([c.channelId, 2n], { account: w.payer.account });
    await w.escrow.write.settle([c.channelId, 12n, await w.voucher(c.channelId, 12n)], { account: w.payee.account });
    const at = BigInt(await networkHelpers.time.latest()) + 3n;
    await networkHelpers.time.setNextBlockTimestamp(at);
    await w.escrow.write.requestClose([c.channelId], { account: w.payer.account });
    assert.deepEqual(await view(), { ...opened, deposit: 42n, settled: 12n, closeRequestedAt: at });
    await w.escrow.write.close([c.channelId, 12n, "0x"], { account: w.payee.account });
    // Finalizing clears payee and closeRequestedAt (slot 1's refund); settled stays readable.
    assert.deepEqual(await view(), { ...opened, payee: zeroAddress, deposit: 42n, settled: 12n, closeRequestedAt: 0n, finalized: true });
  });

  it("test_isPayeeNonceUsed_false_for_unused_and_scoped_by_payee_and_channel", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    assert.equal(await w.escrow.read.isPayeeNonceUsed([A, bytes32(1), 0n]), false);
    const c = await w.openChannel({ deposit: 10n });
    const sig = await signPayeeAuthorization(keyOf(c.payee), "close", w.escrow.address, {
      channelId: c.channelId,
      cumulativeAmount: 0n,
      nonce: 3n,
      deadline: 2n ** 64n,
    });
    await w.escrow.write.closeWithAuthorization([c.channelId, 0n, 3n, 2n ** 64n, sig, "0x"], {
      account: w.relayer.account,
    });
    assert.equal(await w.escrow.read.isPayeeNonceUsed([c.payee, c.channelId, 3n]), true);
    assert.equal(await w.escrow.read.isPayeeNonceUsed([c.payer, c.channelId, 3n]), false);
    assert.equal(await w.escrow.read.isPayeeNonceUsed([c.payee, bytes32(1), 3n]), false);
  });
});
