// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TollgateEscrow} from "../../contracts/TollgateEscrow.sol";
import {ITollgateEscrow} from "../../contracts/interfaces/ITollgateEscrow.sol";
import {MockERC1271Wallet} from "../../contracts/mocks/MockERC1271Wallet.sol";
import {MockStablecoin} from "../../contracts/mocks/MockStablecoin.sol";

import {TestBase} from "./utils/TestBase.sol";
import {VoucherSigner} from "./utils/VoucherSigner.sol";

/// @notice Property-based tests of TollgateEscrow's mandatory core against the draft's "Channel Escrow
/// Contract", "Signature Verification" and "Security Considerations" sections. Every test takes random
/// inputs; hashes and signatures are computed here from the draft's formulas (see {VoucherSigner}).
/// forge-config: default.fuzz.runs = 256
contract TollgateEscrowFuzzTest is TestBase {
    TollgateEscrow internal escrow;
    MockStablecoin internal token;

    uint64 internal GRACE;
    uint128 internal MAX_DEPOSIT;

    uint256 internal constant T0 = 1_700_000_000;
    /// @dev Keeps fuzzed deposits small enough that several of them (top-ups, batches) stay under MAX_DEPOSIT.
    uint256 internal constant BIG = 1e27;

    function setUp() public {
        vm.warp(T0);
        token = new MockStablecoin("Mock USD", "mUSD");
        escrow = new TollgateEscrow();
        GRACE = escrow.CLOSE_GRACE_PERIOD();
        MAX_DEPOSIT = escrow.MAX_DEPOSIT();
        vm.label(address(escrow), "escrow");
        vm.label(address(token), "token");
    }

    // ================================================================== helpers

    function _fund(address payer, uint256 amount) internal {
        token.mint(payer, amount);
        vm.prank(payer);
        token.approve(address(escrow), amount);
    }

    function _open(address payer, address payee, uint128 deposit, bytes32 salt, address signer)
        internal
        returns (bytes32 id)
    {
        _fund(payer, deposit);
        vm.prank(payer);
        id = escrow.open(payee, address(token), deposit, salt, signer);
    }

    function _sign(uint256 pk, bytes32 id, uint128 amount) internal view returns (bytes memory) {
        return VoucherSigner.sign(pk, address(escrow), id, amount);
    }

    function _settle(address payee, bytes32 id, uint128 amount, bytes memory sig) internal {
        vm.prank(payee);
        escrow.settle(id, amount, sig);
    }

    /// @dev Calls `settle` as `payee` and reports whether it succeeded and the revert data if not.
    function _trySettle(address payee, bytes32 id, uint128 amount, bytes memory sig)
        internal
        returns (bool ok, bytes memory err)
    {
        vm.prank(payee);
        try escrow.settle(id, amount, sig) {
            ok = true;
        } catch (bytes memory reason) {
            err = reason;
        }
    }

    function _payee(address payee) internal view returns (address) {
        // The escrow and the token would see their own balances move; the zero address is an invalid payee.
        if (payee == address(0) || payee == address(escrow) || payee == address(token) || payee == address(this)) {
            return address(0xBEEF);
        }
        return payee;
    }

    function _err(bytes4 selector) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector);
    }

    // ================================================================== open

    /// @notice open records the channel under `computeChannelId`, which equals the draft's hash, pulls exactly
    /// the deposit, and a second open with the same inputs reverts with ChannelAlreadyExists.
    function testFuzz_open_recordsChannelUnderComputedId(
        uint256 payerPk,
        address payee,
        uint256 deposit,
        bytes32 salt,
        address authorizedSigner
    ) public {
        address payer = vm.addr(boundPrivateKey(payerPk));
        payee = _payee(payee);
        uint128 amount = toU128(bound(deposit, 1, MAX_DEPOSIT));

        bytes32 expected = VoucherSigner.channelId(address(escrow), payer, payee, address(token), salt, authorizedSigner);
        assertEq(
            escrow.computeChannelId(payer, payee, address(token), salt, authorizedSigner),
            expected,
            "computeChannelId"
        );

        _fund(payer, amount);
        vm.expectEmit(true, true, true, true, address(escrow));
        emit ITollgateEscrow.ChannelOpened(expected, payer, payee, address(token), authorizedSigner, amount);
        vm.prank(payer);
        bytes32 id = escrow.open(payee, address(token), amount, salt, authorizedSigner);

        assertEq(id, expected, "returned channel id");
        ITollgateEscrow.Channel memory ch = escrow.getChannel(id);
        assertEq(ch.payer, payer, "payer");
        assertEq(ch.payee, payee, "payee");
        assertEq(ch.token, address(token), "token");
        assertEq(ch.authorizedSigner, authorizedSigner, "authorizedSigner");
        assertEq(ch.deposit, amount, "deposit");
        assertEq(ch.settled, 0, "settled");
        assertEq(ch.closeRequestedAt, 0, "closeRequestedAt");
        assertFalse(ch.finalized, "finalized");
        assertEq(token.balanceOf(address(escrow)), amount, "escrow holds the deposit");
        assertEq(token.balanceOf(payer), 0, "payer paid the deposit");

        _fund(payer, amount);
        vm.expectRevert(abi.encodeWithSelector(ITollgateEscrow.ChannelAlreadyExists.selector, id));
        vm.prank(payer);
        escrow.open(payee, address(token), amount, salt, authorizedSigner);
    }

    /// @notice A zero deposit reverts with ZeroDeposit for any parties and salt.
    function testFuzz_open_zeroDepositReverts(address payer, address payee, bytes32 salt, address authorizedSigner)
        public
    {
        payee = _payee(payee);
        vm.expectRevert(_err(ITollgateEscrow.ZeroDeposit.selector));
        vm.prank(payer);
        escrow.open(payee, address(token), 0, salt, authorizedSigner);
    }

    /// @notice A deposit above MAX_DEPOSIT reverts with DepositOverflow (even when funded and approved),
    /// while MAX_DEPOSIT itself is accepted.
    function testFuzz_open_aboveMaxDepositReverts(uint256 payerPk, uint256 deposit, bytes32 salt) public {
        address payer = vm.addr(boundPrivateKey(payerPk));
        uint128 amount = toU128(bound(deposit, uint256(MAX_DEPOSIT) + 1, type(uint128).max));
        _fund(payer, amount);
        vm.expectRevert(abi.encodeWithSelector(ITollgateEscrow.DepositOverflow.selector, amount, MAX_DEPOSIT));
        vm.prank(payer);
        escrow.open(address(0xBEEF), address(token), amount, salt, address(0));

        bytes32 id = _open(payer, address(0xBEEF), MAX_DEPOSIT, salt, address(0));
        assertEq(escrow.getChannel(id).deposit, MAX_DEPOSIT, "MAX_DEPOSIT accepted");
    }

    /// @notice A top-up that would take the deposit past MAX_DEPOSIT reverts with DepositOverflow; a zero
    /// top-up with ZeroDeposit.
    function testFuzz_topUp_beyondMaxDepositReverts(uint256 payerPk, uint256 deposit, uint256 extra) public {
        address payer = vm.addr(boundPrivateKey(payerPk));
        uint128 first = toU128(bound(deposit, 1, MAX_DEPOSIT));
        uint128 more = toU128(bound(extra, uint256(MAX_DEPOSIT) - first + 1, type(uint128).max));
        bytes32 id = _open(payer, address(0xBEEF), first, bytes32(0), address(0));
        _fund(payer, more);
        vm.expectRevert(
            abi.encodeWithSelector(ITollgateEscrow.DepositOverflow.selector, uint256(first) + more, MAX_DEPOSIT)
        );
        vm.prank(payer);
        escrow.topUp(id, more);

        vm.expectRevert(_err(ITollgateEscrow.ZeroDeposit.selector));
        vm.prank(payer);
        escrow.topUp(id, 0);
    }

    // ================================================================== settle

    /// @notice Over a sequence of four random cumulative amounts (each validly signed), settle reverts
    /// exactly when `cumulative <= settled` (AmountNotIncreasing) or `cumulative > deposit`
    /// (AmountExceedsDeposit); otherwise the payee receives exactly `cumulative - settled`.
    function testFuzz_settle_revertsExactlyOutsideWindowAndPaysDelta(
        uint256 payerPk,
        uint256 deposit,
        uint256[4] calldata seeds
    ) public {
        uint256 pk = boundPrivateKey(payerPk);
        address payer = vm.addr(pk);
        address payee = address(0xBEEF);
        uint128 dep = toU128(bound(deposit, 1, MAX_DEPOSIT));
        bytes32 id = _open(payer, payee, dep, keccak256("settle"), address(0));

        uint128 settled;
        for (uint256 i; i < seeds.length; ++i) {
            uint256 seed = seeds[i];
            uint256 r = seed >> 8;
            uint128 cum;
            uint256 mode = seed % 5;
            if (mode == 0) cum = settled; // equal: not increasing
            else if (mode == 1) cum = toU128(bound(r, 0, settled)); // at or below settled
            else if (mode == 2 && settled < dep) cum = toU128(bound(r, uint256(settled) + 1, dep)); // in window
            else if (mode == 3) cum = toU128(bound(r, uint256(dep) + 1, type(uint128).max)); // above deposit
            else cum = uint128(r); // anything

            bool expectOk = cum > settled && cum <= dep;
            bytes memory expectedErr;
            if (cum <= settled) {
                expectedErr = abi.encodeWithSelector(ITollgateEscrow.AmountNotIncreasing.selector, cum, settled);
            } else if (cum > dep) {
                expectedErr = abi.encodeWithSelector(ITollgateEscrow.AmountExceedsDeposit.selector, cum, dep);
            }

            uint256 payeeBefore = token.balanceOf(payee);
            uint256 escrowBefore = token.balanceOf(address(escrow));
            (bool ok, bytes memory err) = _trySettle(payee, id, cum, _sign(pk, id, cum));

            assertEq(ok, expectOk, "settle succeeds iff settled < cumulative <= deposit");
            if (ok) {
                uint256 delta = cum - settled;
                assertEq(token.balanceOf(payee) - payeeBefore, delta, "payee receives exactly the delta");
                assertEq(escrowBefore - token.balanceOf(address(escrow)), delta, "escrow pays exactly the delta");
                settled = cum;
            } else {
                assertEq(err, expectedErr, "revert reason");
                assertEq(token.balanceOf(payee), payeeBefore, "no payout on revert");
            }
            assertEq(escrow.getChannel(id).settled, settled, "settled");
        }
        assertEq(token.balanceOf(payee), settled, "payee total equals settled");
        assertEq(token.balanceOf(address(escrow)), dep - settled, "escrow keeps deposit - settled");
    }

    /// @notice Vouchers signed by random keys: only the channel's signer (the payer, or the authorizedSigner
    /// when one is set, in which case the payer's own key no longer works) verifies.
    function testFuzz_settle_onlyChannelSignerVerifies(
        uint256 payerPk,
        uint256 delegatePk,
        uint256 otherPk,
        bool delegated,
        uint256 deposit,
        uint256 amount
    ) public {
        payerPk = boundPrivateKey(payerPk);
        delegatePk = boundPrivateKey(delegatePk);
        otherPk = boundPrivateKey(otherPk);
        address payer = vm.addr(payerPk);
        address delegate = vm.addr(delegatePk);
        uint256 signerPk = delegated ? delegatePk : payerPk;
        address signer = vm.addr(signerPk);
        vm.assume(vm.addr(otherPk) != signer);

        address payee = address(0xBEEF);
        uint128 dep = toU128(bound(deposit, 1, MAX_DEPOSIT));
        uint128 cum = toU128(bound(amount, 1, dep));
        bytes32 id = _open(payer, payee, dep, bytes32(amount), delegated ? delegate : address(0));

        bytes memory invalid = abi.encodeWithSelector(ITollgateEscrow.InvalidSignature.selector, signer);
        (bool ok, bytes memory err) = _trySettle(payee, id, cum, _sign(otherPk, id, cum));
        assertFalse(ok, "a random key's voucher is rejected");
        assertEq(err, invalid, "random key: InvalidSignature(signer)");

        if (delegated && payer != delegate) {
            (ok, err) = _trySettle(payee, id, cum, _sign(payerPk, id, cum));
            assertFalse(ok, "the payer's voucher is rejected once a signer is delegated");
            assertEq(err, invalid, "payer key: InvalidSignature(signer)");
        }

        _settle(payee, id, cum, _sign(signerPk, id, cum));
        assertEq(token.balanceOf(payee), cum, "the signer's voucher pays out");
    }

    /// @notice The malleable high-s twin `(r, n - s, v ^ 1)` of every valid voucher signature recovers to the
    /// signer through bare ecrecover, yet settle and close reject it with InvalidSignature; the low-s original
    /// is then accepted.
    function testFuzz_highSTwinRejected(uint256 pk, uint256 deposit, uint256 amount, bool delegated) public {
        pk = boundPrivateKey(pk);
        address signer = vm.addr(pk);
        address payer = delegated ? address(0xCAFE) : signer;
        address payee = address(0xBEEF);
        uint128 dep = toU128(bound(deposit, 2, MAX_DEPOSIT));
        uint128 first = toU128(bound(amount, 1, dep - 1));
        bytes32 id = _open(payer, payee, dep, bytes32(0), delegated ? signer : address(0));

        bytes memory invalid = abi.encodeWithSelector(ITollgateEscrow.InvalidSignature.selector, signer);
        bytes memory sig = _sign(pk, id, first);
        bytes memory twin = VoucherSigner.highSTwin(sig);
        bytes32 digest = VoucherSigner.voucherDigest(address(escrow), id, first);
        assertEq(VoucherSigner.rawRecover(digest, twin), signer, "twin is a genuine ECDSA signature");

        (bool ok, bytes memory err) = _trySettle(payee, id, first, twin);
        assertFalse(ok, "settle rejects the high-s twin");
        assertEq(err, invalid, "settle: InvalidSignature(signer)");
        _settle(payee, id, first, sig);

        bytes memory finalSig = _sign(pk, id, dep);
        vm.expectRevert(invalid);
        vm.prank(payee);
        escrow.close(id, dep, VoucherSigner.highSTwin(finalSig));

        vm.prank(payee);
        escrow.close(id, dep, finalSig);
        assertEq(token.balanceOf(payee), dep, "payee got the whole deposit");
    }

    /// @notice A valid (r, s) with any other `v` (including the other parity and the raw 0/1) is rejected.
    function testFuzz_settle_rejectsAlteredV(uint256 pk, uint256 amount, uint8 v) public {
        pk = boundPrivateKey(pk);
        address payer = vm.addr(pk);
        uint128 cum = toU128(bound(amount, 1, 1e12));
        bytes32 id = _open(payer, address(0xBEEF), cum, bytes32(0), address(0));
        (bytes32 r, bytes32 s, uint8 goodV) = VoucherSigner.split(_sign(pk, id, cum));
        vm.assume(v != goodV);
        (bool ok, bytes memory err) = _trySettle(address(0xBEEF), id, cum, abi.encodePacked(r, s, v));
        assertFalse(ok, "altered v rejected");
        assertEq(err, abi.encodeWithSelector(ITollgateEscrow.InvalidSignature.selector, payer), "InvalidSignature");
    }

    /// @notice Arbitrary bytes (any length, including 64-byte compact forms) never pass as a voucher signature.
    function testFuzz_settle_rejectsArbitrarySignatureBytes(uint256 pk, bytes calldata junk) public {
        pk = boundPrivateKey(pk);
        address payer = vm.addr(pk);
        bytes32 id = _open(payer, address(0xBEEF), 1e6, bytes32(0), address(0));
        (bool ok, bytes memory err) = _trySettle(address(0xBEEF), id, 1e6, junk);
        assertFalse(ok, "junk signature rejected");
        assertEq(err, abi.encodeWithSelector(ITollgateEscrow.InvalidSignature.selector, payer), "InvalidSignature");
    }

    /// @notice A voucher is bound to its channel and its amount: the same signer's voucher for another
    /// channel, or for another cumulative amount, is rejected.
    function testFuzz_settle_voucherBoundToChannelAndAmount(
        uint256 pk,
        uint256 deposit,
        uint256 amount,
        uint256 otherAmount,
        bytes32 saltA,
        bytes32 saltB
    ) public {
        vm.assume(saltA != saltB);
        pk = boundPrivateKey(pk);
        address payer = vm.addr(pk);
        address payee = address(0xBEEF);
        uint128 dep = toU128(bound(deposit, 2, MAX_DEPOSIT / 2));
        uint128 cum = toU128(bound(amount, 1, dep));
        uint128 other = toU128(bound(otherAmount, 1, dep));
        vm.assume(other != cum);
        bytes32 a = _open(payer, payee, dep, saltA, address(0));
        bytes32 b = _open(payer, payee, dep, saltB, address(0));
        bytes memory invalid = abi.encodeWithSelector(ITollgateEscrow.InvalidSignature.selector, payer);

        (bool ok, bytes memory err) = _trySettle(payee, b, cum, _sign(pk, a, cum));
        assertFalse(ok, "voucher of channel A rejected on channel B");
        assertEq(err, invalid, "cross-channel: InvalidSignature");

        (ok, err) = _trySettle(payee, a, other, _sign(pk, a, cum));
        assertFalse(ok, "voucher for one amount rejected for another");
        assertEq(err, invalid, "tampered amount: InvalidSignature");
    }

    /// @notice An ERC-1271 wallet as authorizedSigner: its owner's vouchers verify, a random key's do not,
    /// and none do once the wallet stops accepting signatures.
    function testFuzz_settle_erc1271Signer(uint256 ownerPk, uint256 otherPk, uint256 amount) public {
        ownerPk = boundPrivateKey(ownerPk);
        otherPk = boundPrivateKey(otherPk);
        address owner = vm.addr(ownerPk);
        vm.assume(vm.addr(otherPk) != owner);
        MockERC1271Wallet wallet = new MockERC1271Wallet(owner);
        address payee = address(0xBEEF);
        uint128 dep = 1e12;
        uint128 cum = toU128(bound(amount, 1, dep - 1));
        bytes32 id = _open(address(0xCAFE), payee, dep, bytes32(0), address(wallet));
        bytes memory invalid = abi.encodeWithSelector(ITollgateEscrow.InvalidSignature.selector, address(wallet));

        (bool ok, bytes memory err) = _trySettle(payee, id, cum, _sign(otherPk, id, cum));
        assertFalse(ok, "non-owner key rejected");
        assertEq(err, invalid, "InvalidSignature(wallet)");
        (ok, err) = _trySettle(payee, id, cum, VoucherSigner.highSTwin(_sign(ownerPk, id, cum)));
        assertFalse(ok, "owner's high-s twin rejected");

        _settle(payee, id, cum, _sign(ownerPk, id, cum));
        assertEq(token.balanceOf(payee), cum, "owner's voucher pays out");

        vm.prank(owner);
        wallet.setAcceptsSignatures(false);
        (ok, err) = _trySettle(payee, id, dep, _sign(ownerPk, id, dep));
        assertFalse(ok, "rejected after the wallet revokes");
        assertEq(err, invalid, "revoked: InvalidSignature(wallet)");
    }

    /// @notice settleBatch over 1..5 channels of one payee pays exactly the sum of the deltas in one
    /// transfer; a batch with one bad claim (a high-s twin) reverts as a whole and changes nothing.
    function testFuzz_settleBatch_paysSumOfDeltas(uint256 count, uint256 seed) public {
        uint256 n = bound(count, 1, 5);
        address payee = address(0xBEEF);
        ITollgateEscrow.VoucherClaim[] memory claims = new ITollgateEscrow.VoucherClaim[](n);
        bytes32[] memory ids = new bytes32[](n);
        uint256 expected;
        for (uint256 i; i < n; ++i) {
            uint256 pk = boundPrivateKey(uint256(keccak256(abi.encode(seed, i, "key"))));
            uint128 dep = toU128(bound(uint256(keccak256(abi.encode(seed, i, "dep"))), 1, BIG));
            uint128 cum = toU128(bound(uint256(keccak256(abi.encode(seed, i, "cum"))), 1, dep));
            ids[i] = _open(vm.addr(pk), payee, dep, bytes32(i), address(0));
            claims[i] = ITollgateEscrow.VoucherClaim(ids[i], cum, _sign(pk, ids[i], cum));
            expected += cum;
        }

        bytes memory good = claims[n - 1].signature;
        claims[n - 1].signature = VoucherSigner.highSTwin(good);
        vm.prank(payee);
        try escrow.settleBatch(address(token), claims) {
            fail("batch with a high-s claim must revert");
        } catch {}
        for (uint256 i; i < n; ++i) {
            assertEq(escrow.getChannel(ids[i]).settled, 0, "atomic: nothing settled");
        }
        assertEq(token.balanceOf(payee), 0, "atomic: nothing paid");

        claims[n - 1].signature = good;
        vm.prank(payee);
        uint256 paid = escrow.settleBatch(address(token), claims);
        assertEq(paid, expected, "returned amount");
        assertEq(token.balanceOf(payee), expected, "payee receives the sum of deltas");
        for (uint256 i; i < n; ++i) {
            assertEq(escrow.getChannel(ids[i]).settled, claims[i].cumulativeAmount, "settled per channel");
        }
    }

    // ================================================================== close

    /// @notice close (with a voucher above `settled`, or forfeiting with an amount at or below it and an
    /// empty signature) splits the deposit exactly: payee total = final settled, payer refund =
    /// deposit - final settled, nothing left in the escrow; the channel is finalized for good.
    function testFuzz_close_splitsDepositExactly(
        uint256 payerPk,
        uint256 deposit,
        uint256 preSettle,
        uint256 finalAmount,
        bool withVoucher
    ) public {
        uint256 pk = boundPrivateKey(payerPk);
        address payer = vm.addr(pk);
        address payee = address(0xBEEF);
        uint128 dep = toU128(bound(deposit, 1, MAX_DEPOSIT));
        bytes32 id = _open(payer, payee, dep, bytes32(preSettle), address(0));

        uint128 settled = toU128(bound(preSettle, 0, dep));
        if (settled != 0) _settle(payee, id, settled, _sign(pk, id, settled));

        uint128 cum;
        bytes memory sig;
        if (withVoucher && settled < dep) {
            cum = toU128(bound(finalAmount, uint256(settled) + 1, dep));
            sig = _sign(pk, id, cum);
        } else {
            cum = toU128(bound(finalAmount, 0, settled)); // forfeit: no voucher needed
        }
        uint128 finalSettled = cum > settled ? cum : settled;

        uint256 payeeBefore = token.balanceOf(payee);
        uint256 payerBefore = token.balanceOf(payer);
        vm.expectEmit(true, true, true, true, address(escrow));
        emit ITollgateEscrow.ChannelClosed(id, finalSettled, finalSettled - settled, dep - finalSettled);
        vm.prank(payee);
        escrow.close(id, cum, sig);

        uint256 toPayee = token.balanceOf(payee) - payeeBefore;
        uint256 toPayer = token.balanceOf(payer) - payerBefore;
        assertEq(toPayee, finalSettled - settled, "payee receives the final delta");
        assertEq(toPayer, dep - finalSettled, "payer refunded deposit - settled");
        assertEq(toPayee + toPayer + settled, dep, "deposit split exactly");
        assertEq(token.balanceOf(payee), finalSettled, "payee total");
        assertEq(token.balanceOf(address(escrow)), 0, "escrow emptied");

        ITollgateEscrow.Channel memory ch = escrow.getChannel(id);
        assertTrue(ch.finalized, "finalized");
        assertEq(ch.settled, finalSettled, "settled recorded");
        assertEq(ch.deposit, dep, "deposit kept in the record");
        _assertFinalizedRejectsEverything(id, bytes32(preSettle), payer, payee, pk, dep);
    }

    /// @notice close with an amount above the deposit reverts AmountExceedsDeposit; above `settled` with a
    /// bad signature reverts InvalidSignature; neither moves funds nor finalizes.
    function testFuzz_close_rejectsInvalidFinalVoucher(uint256 payerPk, uint256 otherPk, uint256 deposit, uint256 extra)
        public
    {
        uint256 pk = boundPrivateKey(payerPk);
        otherPk = boundPrivateKey(otherPk);
        address payer = vm.addr(pk);
        vm.assume(vm.addr(otherPk) != payer);
        address payee = address(0xBEEF);
        uint128 dep = toU128(bound(deposit, 1, BIG));
        uint128 over = toU128(bound(extra, uint256(dep) + 1, type(uint128).max));
        bytes32 id = _open(payer, payee, dep, bytes32(0), address(0));

        vm.expectRevert(abi.encodeWithSelector(ITollgateEscrow.AmountExceedsDeposit.selector, over, dep));
        vm.prank(payee);
        escrow.close(id, over, _sign(pk, id, over));

        vm.expectRevert(abi.encodeWithSelector(ITollgateEscrow.InvalidSignature.selector, payer));
        vm.prank(payee);
        escrow.close(id, dep, _sign(otherPk, id, dep));

        assertFalse(escrow.getChannel(id).finalized, "still open");
        assertEq(token.balanceOf(address(escrow)), dep, "funds untouched");
    }

    // ================================================================== forced close

    /// @notice After requestClose and the full grace period (any time at or after it), withdraw refunds
    /// exactly deposit - settled to the payer, pays the payee nothing, and finalizes.
    function testFuzz_withdraw_refundsRemainderAfterGrace(
        uint256 payerPk,
        uint256 deposit,
        uint256 settleAmount,
        uint256 elapsed
    ) public {
        uint256 pk = boundPrivateKey(payerPk);
        address payer = vm.addr(pk);
        address payee = address(0xBEEF);
        uint128 dep = toU128(bound(deposit, 1, MAX_DEPOSIT));
        bytes32 id = _open(payer, payee, dep, bytes32(0), address(0));
        uint128 settled = toU128(bound(settleAmount, 0, dep));
        if (settled != 0) _settle(payee, id, settled, _sign(pk, id, settled));

        vm.prank(payer);
        escrow.requestClose(id);
        assertEq(escrow.getChannel(id).closeRequestedAt, T0, "closeRequestedAt");

        vm.warp(T0 + bound(elapsed, GRACE, 3650 days));
        uint256 payeeBefore = token.balanceOf(payee);
        vm.prank(payer);
        escrow.withdraw(id);

        assertEq(token.balanceOf(payer), dep - settled, "payer refunded exactly deposit - settled");
        assertEq(token.balanceOf(payee), payeeBefore, "payee unaffected");
        assertEq(token.balanceOf(address(escrow)), 0, "escrow emptied");
        assertTrue(escrow.getChannel(id).finalized, "finalized");
        _assertFinalizedRejectsEverything(id, bytes32(0), payer, payee, pk, dep);
    }

    /// @notice withdraw at any moment before `closeRequestedAt + CLOSE_GRACE_PERIOD` reverts with
    /// CloseNotReady(readyAt, now) — while the payee can still settle — and succeeds exactly at readyAt.
    function testFuzz_withdraw_revertsBeforeGrace(uint256 payerPk, uint256 deposit, uint256 elapsed, uint256 late)
        public
    {
        uint256 pk = boundPrivateKey(payerPk);
        address payer = vm.addr(pk);
        address payee = address(0xBEEF);
        uint128 dep = toU128(bound(deposit, 2, BIG));
        bytes32 id = _open(payer, payee, dep, bytes32(0), address(0));
        vm.prank(payer);
        escrow.requestClose(id);

        uint256 readyAt = T0 + GRACE;
        uint256 now_ = T0 + bound(elapsed, 0, GRACE - 1);
        vm.warp(now_);
        vm.expectRevert(abi.encodeWithSelector(ITollgateEscrow.CloseNotReady.selector, readyAt, now_));
        vm.prank(payer);
        escrow.withdraw(id);

        // The payee may still settle during the grace period.
        uint128 cum = toU128(bound(late, 1, dep));
        _settle(payee, id, cum, _sign(pk, id, cum));

        vm.warp(readyAt);
        vm.prank(payer);
        escrow.withdraw(id);
        assertEq(token.balanceOf(payer), dep - cum, "refund at readyAt");
        assertEq(token.balanceOf(payee), cum, "late settlement kept");
    }

    /// @notice withdraw with no pending close request reverts (CloseNotRequested) at any time.
    function testFuzz_withdraw_withoutRequestReverts(uint256 payerPk, uint256 elapsed) public {
        address payer = vm.addr(boundPrivateKey(payerPk));
        bytes32 id = _open(payer, address(0xBEEF), 1e6, bytes32(0), address(0));
        vm.warp(T0 + bound(elapsed, 0, 3650 days));
        vm.expectRevert(abi.encodeWithSelector(ITollgateEscrow.CloseNotRequested.selector, id));
        vm.prank(payer);
        escrow.withdraw(id);
    }

    /// @notice topUp cancels a pending close at any point (even after the grace period has elapsed, as long
    /// as the payer has not withdrawn): closeRequestedAt returns to 0, withdraw reverts CloseNotRequested
    /// at any later time, and a new requestClose starts a fresh grace period.
    function testFuzz_topUp_cancelsPendingClose(
        uint256 payerPk,
        uint256 deposit,
        uint256 extra,
        uint256 beforeTopUp,
        uint256 afterTopUp
    ) public {
        address payer = vm.addr(boundPrivateKey(payerPk));
        uint128 dep = toU128(bound(deposit, 1, BIG));
        uint128 more = toU128(bound(extra, 1, BIG));
        bytes32 id = _open(payer, address(0xBEEF), dep, bytes32(0), address(0));
        vm.prank(payer);
        escrow.requestClose(id);

        uint256 t1 = T0 + bound(beforeTopUp, 0, 2 * uint256(GRACE));
        vm.warp(t1);
        _fund(payer, more);
        vm.expectEmit(true, true, true, true, address(escrow));
        emit ITollgateEscrow.CloseRequestCancelled(id);
        vm.prank(payer);
        escrow.topUp(id, more);

        ITollgateEscrow.Channel memory ch = escrow.getChannel(id);
        assertEq(ch.closeRequestedAt, 0, "close request cancelled");
        assertEq(ch.deposit, uint256(dep) + more, "deposit grew");
        assertEq(token.balanceOf(address(escrow)), uint256(dep) + more, "escrow holds both");

        uint256 t2 = t1 + bound(afterTopUp, 0, 3650 days);
        vm.warp(t2);
        vm.expectRevert(abi.encodeWithSelector(ITollgateEscrow.CloseNotRequested.selector, id));
        vm.prank(payer);
        escrow.withdraw(id);

        vm.prank(payer);
        escrow.requestClose(id);
        assertEq(escrow.getChannel(id).closeRequestedAt, t2, "fresh request");
        vm.expectRevert(abi.encodeWithSelector(ITollgateEscrow.CloseNotReady.selector, t2 + GRACE, t2));
        vm.prank(payer);
        escrow.withdraw(id);
    }

    // ================================================================== access control

    /// @notice Any caller other than the payee cannot settle or close; any caller other than the payer cannot
    /// topUp, requestClose or withdraw.
    function testFuzz_accessControl(uint256 payerPk, address stranger) public {
        uint256 pk = boundPrivateKey(payerPk);
        address payer = vm.addr(pk);
        address payee = address(0xBEEF);
        vm.assume(stranger != payer && stranger != payee);
        bytes32 id = _open(payer, payee, 1e6, bytes32(0), address(0));
        bytes memory sig = _sign(pk, id, 1e6);

        vm.expectRevert(abi.encodeWithSelector(ITollgateEscrow.NotPayee.selector, stranger, payee));
        vm.prank(stranger);
        escrow.settle(id, 1e6, sig);
        vm.expectRevert(abi.encodeWithSelector(ITollgateEscrow.NotPayee.selector, stranger, payee));
        vm.prank(stranger);
        escrow.close(id, 1e6, sig);
        vm.expectRevert(abi.encodeWithSelector(ITollgateEscrow.NotPayer.selector, stranger, payer));
        vm.prank(stranger);
        escrow.topUp(id, 1);
        vm.expectRevert(abi.encodeWithSelector(ITollgateEscrow.NotPayer.selector, stranger, payer));
        vm.prank(stranger);
        escrow.requestClose(id);

        vm.prank(payer);
        escrow.requestClose(id);
        vm.warp(T0 + GRACE);
        vm.expectRevert(abi.encodeWithSelector(ITollgateEscrow.NotPayer.selector, stranger, payer));
        vm.prank(stranger);
        escrow.withdraw(id);
    }

    /// @notice Every call on an id that was never opened reverts with ChannelNotFound.
    function testFuzz_unknownChannelReverts(bytes32 id, address caller) public {
        bytes memory notFound = abi.encodeWithSelector(ITollgateEscrow.ChannelNotFound.selector, id);
        vm.startPrank(caller);
        vm.expectRevert(notFound);
        escrow.settle(id, 1, "");
        vm.expectRevert(notFound);
        escrow.close(id, 0, "");
        vm.expectRevert(notFound);
        escrow.topUp(id, 1);
        vm.expectRevert(notFound);
        escrow.requestClose(id);
        vm.expectRevert(notFound);
        escrow.withdraw(id);
        vm.stopPrank();
    }

    // ================================================================== hashes

    /// @notice computeChannelId equals keccak256(abi.encode(payer, payee, token, salt, authorizedSigner,
    /// escrow, chainid)) for any inputs.
    function testFuzz_computeChannelId_matchesDraftHash(
        address payer,
        address payee,
        address tokenAddr,
        bytes32 salt,
        address authorizedSigner
    ) public view {
        assertEq(
            escrow.computeChannelId(payer, payee, tokenAddr, salt, authorizedSigner),
            keccak256(abi.encode(payer, payee, tokenAddr, salt, authorizedSigner, address(escrow), block.chainid)),
            "channel id"
        );
    }

    /// @notice getVoucherDigest equals the draft's EIP-712 digest (domain "EVM Payment Channel" / "1", this
    /// chain, this escrow), on any chain id; the type hash and domain separator match too.
    function testFuzz_getVoucherDigest_matchesDraftHash(bytes32 id, uint128 amount, uint64 chain) public {
        assertEq(
            escrow.VOUCHER_TYPEHASH(), keccak256("Voucher(bytes32 channelId,uint128 cumulativeAmount)"), "typehash"
        );
        assertEq(escrow.domainSeparator(), VoucherSigner.domainSeparator(address(escrow)), "domain separator");
        assertEq(
            escrow.getVoucherDigest(id, amount),
            VoucherSigner.voucherDigest(address(escrow), id, amount),
            "digest on the default chain"
        );

        vm.chainId(bound(chain, 1, type(uint64).max));
        assertEq(escrow.domainSeparator(), VoucherSigner.domainSeparator(address(escrow)), "domain after chain change");
        assertEq(
            escrow.getVoucherDigest(id, amount),
            VoucherSigner.voucherDigest(address(escrow), id, amount),
            "digest after chain change"
        );
    }

    // ================================================================== shared checks

    /// @dev After finalization every state-changing call reverts ChannelFinalized and the id cannot be opened
    /// again (ChannelAlreadyExists), so no old voucher can be replayed against a new deposit.
    function _assertFinalizedRejectsEverything(
        bytes32 id,
        bytes32 salt,
        address payer,
        address payee,
        uint256 pk,
        uint128 dep
    ) internal {
        bytes memory finalized = abi.encodeWithSelector(ITollgateEscrow.ChannelFinalized.selector, id);
        bytes memory sig = _sign(pk, id, dep);
        vm.expectRevert(finalized);
        vm.prank(payee);
        escrow.settle(id, dep, sig);
        vm.expectRevert(finalized);
        vm.prank(payee);
        escrow.close(id, dep, sig);
        _fund(payer, dep);
        vm.expectRevert(finalized);
        vm.prank(payer);
        escrow.topUp(id, dep);
        vm.expectRevert(finalized);
        vm.prank(payer);
        escrow.requestClose(id);
        vm.expectRevert(finalized);
        vm.prank(payer);
        escrow.withdraw(id);

        ITollgateEscrow.Channel memory ch = escrow.getChannel(id);
        vm.expectRevert(abi.encodeWithSelector(ITollgateEscrow.ChannelAlreadyExists.selector, id));
        vm.prank(payer);
        escrow.open(payee, address(token), dep, salt, ch.authorizedSigner);
        assertEq(
            VoucherSigner.channelId(address(escrow), payer, payee, address(token), salt, ch.authorizedSigner),
            id,
            "re-open attempt used the original inputs"
        );
    }
}
