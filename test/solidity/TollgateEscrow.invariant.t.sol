// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TollgateEscrow} from "../../contracts/TollgateEscrow.sol";
import {ITollgateEscrow} from "../../contracts/interfaces/ITollgateEscrow.sol";
import {MockStablecoin} from "../../contracts/mocks/MockStablecoin.sol";

import {EscrowHandler} from "./invariant/EscrowHandler.sol";
import {TestBase} from "./utils/TestBase.sol";

/// @notice Stateful invariants of TollgateEscrow. The fuzzer calls only {EscrowHandler} (see
/// `targetContracts`), which drives the escrow through random opens, top-ups, settlements, batches, closes,
/// forced closes, time jumps and forged or unauthorized calls; after every call each invariant below is
/// checked against the escrow's state and the handler's independent model.
/// forge-config: default.invariant.runs = 64
/// forge-config: default.invariant.depth = 100
/// forge-config: default.invariant.fail-on-revert = true
contract TollgateEscrowInvariantTest is TestBase {
    TollgateEscrow internal escrow;
    MockStablecoin internal token;
    EscrowHandler internal handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        token = new MockStablecoin("Mock USD", "mUSD");
        escrow = new TollgateEscrow();
        handler = new EscrowHandler(escrow, token);
        vm.label(address(escrow), "escrow");
        vm.label(address(token), "token");
        vm.label(address(handler), "handler");
    }

    /// @notice Invariant targets: the handler only (not the escrow, token or wallet deployed in setUp).
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    // ================================================================== invariants

    /// @notice The escrow holds exactly the sum over unfinalized channels of (deposit - settled), read from
    /// the escrow, which also equals the handler's ghost ledger: deposited - paid to payees - refunded.
    function invariant_escrowBalanceEqualsOpenLiabilities() public view {
        uint256 liabilities;
        uint256 modelLiabilities;
        uint256 n = handler.channelCount();
        for (uint256 i; i < n; ++i) {
            bytes32 id = handler.channelAt(i).id;
            ITollgateEscrow.Channel memory ch = escrow.getChannel(id);
            if (!ch.finalized) liabilities += ch.deposit - ch.settled;
            EscrowHandler.Model memory m = handler.modelOf(id);
            if (!m.finalized) modelLiabilities += m.deposit - m.settled;
        }
        uint256 balance = token.balanceOf(address(escrow));
        assertEq(balance, liabilities, "escrow balance == sum of open (deposit - settled)");
        assertEq(balance, modelLiabilities, "escrow balance == model's open liabilities");
        assertEq(
            balance,
            handler.totalDeposited() - handler.totalPaidToPayees() - handler.totalRefunded(),
            "escrow balance == deposited - paid - refunded"
        );
    }

    /// @notice settled <= deposit for every channel, and the escrow's record agrees with the model.
    function invariant_settledNeverExceedsDeposit() public view {
        uint256 n = handler.channelCount();
        for (uint256 i; i < n; ++i) {
            EscrowHandler.ChannelInfo memory c = handler.channelAt(i);
            ITollgateEscrow.Channel memory ch = escrow.getChannel(c.id);
            assertLe(ch.settled, ch.deposit, "settled <= deposit");
            EscrowHandler.Model memory m = handler.modelOf(c.id);
            assertEq(ch.deposit, m.deposit, "deposit matches the model");
            assertEq(ch.settled, m.settled, "settled matches the model");
            // A finalized record clears payee and closeRequestedAt (docs/escrow.md, storage).
            assertEq(ch.closeRequestedAt, m.finalized ? 0 : m.closeRequestedAt, "closeRequestedAt matches the model");
            assertEq(ch.finalized, m.finalized, "finalized matches the model");
            assertEq(ch.payer, c.payer, "payer");
            assertEq(ch.payee, m.finalized ? address(0) : c.payee, "payee");
            assertEq(ch.authorizedSigner, c.authorizedSigner, "authorizedSigner");
        }
    }

    /// @notice No payee ever received more from a channel than the highest voucher that channel's signer
    /// signed; what it received equals the channel's settled amount; and each payee's whole balance (payees
    /// get tokens only from the escrow) is what the handler saw it paid.
    function invariant_payeeNeverPaidBeyondHighestVoucher() public view {
        uint256 n = handler.channelCount();
        uint256 actors = handler.payerCount();
        uint256[] memory paidTo = new uint256[](actors);
        uint256[] memory signedFor = new uint256[](actors);
        for (uint256 i; i < n; ++i) {
            EscrowHandler.ChannelInfo memory c = handler.channelAt(i);
            EscrowHandler.Model memory m = handler.modelOf(c.id);
            assertLe(m.paidToPayee, m.maxSigned, "payee paid <= highest signed voucher");
            assertEq(m.paidToPayee, escrow.getChannel(c.id).settled, "payee paid == settled");
            for (uint256 p; p < actors; ++p) {
                if (handler.payees(p) == c.payee) {
                    paidTo[p] += m.paidToPayee;
                    signedFor[p] += m.maxSigned;
                }
            }
        }
        for (uint256 p; p < actors; ++p) {
            uint256 balance = token.balanceOf(handler.payees(p));
            assertEq(balance, paidTo[p], "payee balance == what its channels paid");
            assertLe(balance, signedFor[p], "payee balance <= sum of highest vouchers");
        }
    }

    /// @notice A finalized channel never changes: getChannel equals the snapshot taken when it was finalized.
    function invariant_finalizedChannelNeverChanges() public view {
        uint256 n = handler.channelCount();
        for (uint256 i; i < n; ++i) {
            bytes32 id = handler.channelAt(i).id;
            if (!handler.modelOf(id).finalized) continue;
            assertEq(
                abi.encode(escrow.getChannel(id)), abi.encode(handler.snapshotOf(id)), "finalized channel changed"
            );
        }
    }

    /// @notice A payer who requested a close always got exactly deposit - settled back once the grace period
    /// had elapsed (the handler checks every such withdraw and counts refusals and wrong refunds).
    function invariant_forcedCloseAlwaysRefundsRemainder() public view {
        assertEq(handler.withdrawRefundFailures(), 0, "forced-close refund failures");
    }

    /// @notice Every action's outcome matched the handler's prediction: forged, stale, excessive, replayed
    /// and unauthorized calls reverted with the expected error; valid ones succeeded and moved exactly the
    /// predicted amounts.
    function invariant_everyOutcomeAsPredicted() public view {
        assertEq(handler.unexpectedOutcomes(), 0, string.concat("unexpected outcomes; first: ", handler.firstFailure()));
    }

    // ================================================================== handler self-check

    /// @notice Drives the handler through 600 pseudo-random actions (a fixed sequence) and checks that it
    /// reaches every action and every interesting outcome with no unexpected one, and that all invariants
    /// hold at the end. Guards against a handler that silently stops exercising the escrow.
    function test_handlerReachesEveryOutcome() public {
        for (uint256 i; i < 600; ++i) {
            uint256 r = uint256(keccak256(abi.encode("tollgate handler smoke", i)));
            uint256 s1 = uint256(keccak256(abi.encode(r, 1)));
            uint256 s2 = uint256(keccak256(abi.encode(r, 2)));
            uint256 s3 = uint256(keccak256(abi.encode(r, 3)));
            uint256 a = r % handler.ACTION_COUNT();
            if (a == uint256(EscrowHandler.Action.Open)) handler.open(s1, s2, s3, r >> 8);
            else if (a == uint256(EscrowHandler.Action.Reopen)) handler.reopen(s1);
            else if (a == uint256(EscrowHandler.Action.TopUp)) handler.topUp(s1, s2);
            else if (a == uint256(EscrowHandler.Action.Settle)) handler.settle(s1, s2, s3);
            else if (a == uint256(EscrowHandler.Action.SettleBatch)) handler.settleBatch(s1, s2, s3, r >> 8);
            else if (a == uint256(EscrowHandler.Action.Close)) handler.close(s1, s2, s3);
            else if (a == uint256(EscrowHandler.Action.RequestClose)) handler.requestClose(s1);
            else if (a == uint256(EscrowHandler.Action.Warp)) handler.warp(s1);
            else if (a == uint256(EscrowHandler.Action.Withdraw)) handler.withdraw(s1);
            else if (a == uint256(EscrowHandler.Action.CompleteForcedClose)) handler.completeForcedClose(s1, s2);
            else if (a == uint256(EscrowHandler.Action.StrangerCall)) handler.strangerCall(s1, s2, s3);
            else handler.replayVoucher(s1, s2, s3);
        }

        for (uint256 a; a < handler.ACTION_COUNT(); ++a) {
            assertGt(handler.actionCalls(a), 0, "every action was called");
        }
        assertGt(handler.opened(), 0, "channels opened");
        assertGt(handler.settledOk(), 0, "settlements");
        assertGt(handler.batchesOk(), 0, "batch settlements");
        assertGt(handler.closedWithVoucher(), 0, "closes with a voucher");
        assertGt(handler.closedForfeit(), 0, "forfeit closes");
        assertGt(handler.withdrawn(), 0, "forced-close withdrawals");
        assertGt(handler.closesCancelledByTopUp(), 0, "close requests cancelled by a top-up");
        assertGt(handler.rejectedAsExpected(), 0, "forged or unauthorized calls rejected");
        assertEq(handler.unexpectedOutcomes(), 0, string.concat("unexpected outcomes; first: ", handler.firstFailure()));

        invariant_escrowBalanceEqualsOpenLiabilities();
        invariant_settledNeverExceedsDeposit();
        invariant_payeeNeverPaidBeyondHighestVoucher();
        invariant_finalizedChannelNeverChanges();
        invariant_forcedCloseAlwaysRefundsRemainder();
        invariant_everyOutcomeAsPredicted();
    }

    /// @notice Run after every invariant run (EDR, like Foundry, calls `afterInvariant`): the handler was
    /// really exercised — it received calls and at least one channel exists — so no invariant passes vacuously.
    function afterInvariant() external view {
        assertGt(handler.totalCalls(), 0, "handler calls in this run");
        assertGt(handler.channelCount(), 0, "channels opened in this run");
    }
}
