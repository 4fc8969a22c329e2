// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {TollgateEscrow} from "../../../contracts/TollgateEscrow.sol";
import {ITollgateEscrow} from "../../../contracts/interfaces/ITollgateEscrow.sol";
import {MockERC1271Wallet} from "../../../contracts/mocks/MockERC1271Wallet.sol";
import {MockStablecoin} from "../../../contracts/mocks/MockStablecoin.sol";

import {CheatBase} from "../utils/CheatBase.sol";
import {VoucherSigner} from "../utils/VoucherSigner.sol";

/// @notice Drives TollgateEscrow through bounded random actions of three payers and three payees, and keeps
/// an independent model of every channel (deposit, settled, close request, finalization), the highest
/// voucher each channel's signer signed, what each payee was paid and each payer refunded, and a snapshot
/// of every channel at the moment it was finalized.
///
/// Every action predicts its outcome from the model before calling the escrow (success, or the exact revert
/// data) and checks the token movements of a success to the unit. A mismatch never reverts the handler: it is
/// counted in `unexpectedOutcomes` (or `withdrawRefundFailures` for a forced-close refund), which the
/// invariant suite asserts to be zero. The handler itself never reverts, so the suite can also run with
/// `fail-on-revert`.
///
/// @dev No function here starts with `test` or `invariant`, so Hardhat does not take this for a test suite.
contract EscrowHandler is CheatBase {
    using Strings for uint256;

    // ------------------------------------------------------------------ set-up

    TollgateEscrow public immutable escrow;
    MockStablecoin public immutable token;
    MockERC1271Wallet public immutable wallet;
    uint256 public immutable grace;

    uint256 internal constant ACTORS = 3;
    uint256 public constant MAX_CHANNELS = 24;
    uint256 internal constant MAX_AMOUNT = 1e12; // 1,000,000 tokens of 6 decimals per deposit / top-up

    uint256[ACTORS] internal payerKeys;
    address[ACTORS] public payers;
    address[ACTORS] public payees;
    uint256[ACTORS] internal payeeKeys;
    uint256[2] internal delegateKeys;
    uint256 internal walletOwnerKey;
    uint256 internal strangerKey;
    address public stranger;

    /// @notice What the handler knows about one channel: its parties and the key that signs its vouchers.
    struct ChannelInfo {
        bytes32 id;
        address payer;
        address payee;
        address authorizedSigner; // as passed to open; address(0) = payer signs
        address signer; // who the escrow verifies against (payer, delegate EOA or ERC-1271 wallet)
        uint256 signerKey; // EOA key that signs (for the wallet: its owner's key)
        bytes32 salt;
    }

    /// @notice The handler's own model of a channel, updated from its predictions, never from the escrow.
    struct Model {
        uint128 deposit;
        uint128 settled;
        uint64 closeRequestedAt;
        bool finalized;
        uint128 maxSigned; // highest cumulative amount the channel's signer ever signed for this channel
        uint256 paidToPayee; // token units the payee received from this channel
        uint256 refundedToPayer; // token units the payer got back from this channel
    }

    ChannelInfo[] internal _channels;
    mapping(bytes32 id => Model) internal _model;
    mapping(bytes32 id => ITollgateEscrow.Channel) internal _snapshot;

    // ------------------------------------------------------------------ ghost totals and counters

    uint256 public ghostTime;
    uint256 public totalDeposited;
    uint256 public totalPaidToPayees;
    uint256 public totalRefunded;

    uint256 public unexpectedOutcomes;
    uint256 public withdrawRefundFailures;
    string public firstFailure;

    enum Action {
        Open,
        Reopen,
        TopUp,
        Settle,
        SettleBatch,
        Close,
        RequestClose,
        Warp,
        Withdraw,
        CompleteForcedClose,
        StrangerCall,
        ReplayVoucher
    }

    uint256 public constant ACTION_COUNT = 12;
    uint256 public totalCalls;
    uint256[ACTION_COUNT] internal _actionCalls;

    // Outcomes actually reached (as opposed to actions attempted).
    uint256 public opened;
    uint256 public settledOk;
    uint256 public batchesOk;
    uint256 public closedWithVoucher;
    uint256 public closedForfeit;
    uint256 public withdrawn;
    uint256 public closesCancelledByTopUp;
    uint256 public rejectedAsExpected;

    constructor(TollgateEscrow escrow_, MockStablecoin token_) {
        escrow = escrow_;
        token = token_;
        grace = escrow_.CLOSE_GRACE_PERIOD();
        for (uint256 i; i < ACTORS; ++i) {
            payerKeys[i] = 0xA11CE0 + i;
            payers[i] = vm.addr(payerKeys[i]);
            payeeKeys[i] = 0xB0B0 + i;
            payees[i] = vm.addr(payeeKeys[i]);
            vm.label(payers[i], string.concat("payer", i.toString()));
            vm.label(payees[i], string.concat("payee", i.toString()));
        }
        delegateKeys[0] = 0xDE1E0;
        delegateKeys[1] = 0xDE1E1;
        walletOwnerKey = 0x0FFE4;
        wallet = new MockERC1271Wallet(vm.addr(walletOwnerKey));
        strangerKey = 0x57A4;
        stranger = vm.addr(strangerKey);
        vm.label(address(wallet), "wallet");
        vm.label(stranger, "stranger");
        ghostTime = block.timestamp;
    }

    modifier action(Action a) {
        ++_actionCalls[uint256(a)];
        _beginAction();
        _;
    }

    /// @dev Every action starts at the handler's clock (the runner may reset the block between calls) and
    /// with at least one channel to act on.
    function _beginAction() internal {
        vm.warp(ghostTime);
        ++totalCalls;
        if (_channels.length == 0) _openChannel(0, 0, 0, 1e6);
    }

    // ================================================================== actions

    /// @notice A payer opens a channel with a random payee, signer kind and deposit. At capacity, re-opening
    /// an existing channel's inputs is attempted instead and must revert ChannelAlreadyExists.
    function open(uint256 payerSeed, uint256 payeeSeed, uint256 signerSeed, uint256 depositSeed)
        external
        action(Action.Open)
    {
        if (_channels.length >= MAX_CHANNELS) _reopen(payerSeed);
        else _openChannel(payerSeed, payeeSeed, signerSeed, depositSeed);
    }

    /// @notice Re-opening the inputs of an existing (live or finalized) channel must revert.
    function reopen(uint256 channelSeed) external action(Action.Reopen) {
        _reopen(channelSeed);
    }

    /// @notice The payer tops up; on a finalized channel this must revert ChannelFinalized. A pending close
    /// must be cancelled.
    function topUp(uint256 channelSeed, uint256 amountSeed) external action(Action.TopUp) {
        ChannelInfo memory c = _pick(channelSeed);
        Model storage m = _model[c.id];
        uint128 amount = uint128(bound(amountSeed, 1, MAX_AMOUNT));
        _fund(c.payer, amount);

        uint256 escrowBefore = _balance(address(escrow));
        vm.prank(c.payer);
        (bool ok, bytes memory err) = _call(abi.encodeCall(escrow.topUp, (c.id, amount)));
        if (!_check("topUp", ok, err, !m.finalized, _finalizedErr(c.id))) return;
        if (!ok) return;

        if (_gain(escrowBefore, address(escrow)) != amount) _fail("topUp: escrow did not receive the amount");
        if (escrow.getChannel(c.id).closeRequestedAt != 0) _fail("topUp: pending close not cancelled");
        if (m.closeRequestedAt != 0) ++closesCancelledByTopUp;
        m.deposit += amount;
        m.closeRequestedAt = 0;
        totalDeposited += amount;
    }

    /// @notice The channel's signer signs a voucher (usually in the settle window, sometimes stale, above the
    /// deposit, the whole deposit or a replay of the highest one) and the payee settles it. Before a voucher
    /// the escrow should accept, its high-s twin and a stranger-signed copy are submitted and must be rejected.
    function settle(uint256 channelSeed, uint256 amountSeed, uint256 modeSeed) external action(Action.Settle) {
        ChannelInfo memory c = _pick(channelSeed);
        Model storage m = _model[c.id];
        uint128 cum = _chooseAmount(m, amountSeed, modeSeed);
        bytes memory sig = _signVoucher(c, cum);
        (bool expectOk, bytes memory expectedErr) = _expectRedeem(c, m, cum, true);
        if (expectOk) _assertForgeriesRejected(c, cum, sig, false);

        uint256 payeeBefore = _balance(c.payee);
        vm.prank(c.payee);
        (bool ok, bytes memory err) = _call(abi.encodeCall(escrow.settle, (c.id, cum, sig)));
        if (!_check("settle", ok, err, expectOk, expectedErr)) return;
        if (!ok) return;

        uint256 delta = cum - m.settled;
        if (_gain(payeeBefore, c.payee) != delta) _fail("settle: payee did not receive exactly the delta");
        m.settled = cum;
        m.paidToPayee += delta;
        totalPaidToPayees += delta;
        ++settledOk;
    }

    /// @notice A payee settles up to four of its live channels at once (sometimes twice the same channel,
    /// sometimes an empty batch); with one high-s claim the whole batch must revert and change nothing.
    function settleBatch(uint256 payeeSeed, uint256 countSeed, uint256 amountSeed, uint256 modeSeed)
        external
        action(Action.SettleBatch)
    {
        address payee = payees[payeeSeed % ACTORS];
        (ChannelInfo[] memory picked, uint256 found) = _liveChannelsOf(payee, amountSeed, 4);
        uint256 n = bound(countSeed, 0, found);
        uint256 mode = modeSeed % 4;
        bool duplicate = mode == 0 && n != 0 && _model[picked[0].id].deposit - _model[picked[0].id].settled >= 2;
        bool corrupt = mode == 1 && n != 0;

        ITollgateEscrow.VoucherClaim[] memory claims = new ITollgateEscrow.VoucherClaim[](n + (duplicate ? 1 : 0));
        uint128[] memory newSettled = new uint128[](n);
        uint256 expectedTotal;
        for (uint256 i; i < n; ++i) {
            Model storage m = _model[picked[i].id];
            uint256 room = m.deposit - m.settled;
            uint256 seed = uint256(keccak256(abi.encode(amountSeed, i)));
            // With a duplicate, the first claim leaves room for a second, higher one on the same channel.
            uint128 cum = uint128(m.settled + bound(seed, 1, duplicate && i == 0 ? room - 1 : room));
            claims[i] = ITollgateEscrow.VoucherClaim(picked[i].id, cum, _signVoucher(picked[i], cum));
            newSettled[i] = cum;
        }
        if (duplicate) {
            Model storage m0 = _model[picked[0].id];
            uint128 higher = uint128(bound(amountSeed >> 128, uint256(newSettled[0]) + 1, m0.deposit));
            claims[n] = ITollgateEscrow.VoucherClaim(picked[0].id, higher, _signVoucher(picked[0], higher));
            newSettled[0] = higher;
        }
        bytes memory expectedErr;
        if (corrupt) {
            claims[n - 1].signature = VoucherSigner.highSTwin(claims[n - 1].signature);
            expectedErr = abi.encodeWithSelector(ITollgateEscrow.InvalidSignature.selector, picked[n - 1].signer);
        }
        for (uint256 i; i < n; ++i) {
            expectedTotal += newSettled[i] - _model[picked[i].id].settled;
        }

        uint256 payeeBefore = _balance(payee);
        vm.prank(payee);
        (bool ok, bytes memory ret) = _call(abi.encodeCall(escrow.settleBatch, (address(token), claims)));
        if (!_check("settleBatch", ok, ret, !corrupt, expectedErr)) return;
        if (!ok) {
            // Atomic: nothing moved, nothing settled.
            if (_balance(payee) != payeeBefore) _fail("settleBatch: reverted batch paid out");
            for (uint256 i; i < n; ++i) {
                if (escrow.getChannel(picked[i].id).settled != _model[picked[i].id].settled) {
                    _fail("settleBatch: reverted batch changed settled");
                }
            }
            return;
        }

        if (abi.decode(ret, (uint256)) != expectedTotal) _fail("settleBatch: returned amount != sum of deltas");
        if (_gain(payeeBefore, payee) != expectedTotal) _fail("settleBatch: payee not paid the sum of deltas");
        for (uint256 i; i < n; ++i) {
            Model storage m = _model[picked[i].id];
            uint256 delta = newSettled[i] - m.settled;
            m.settled = newSettled[i];
            m.paidToPayee += delta;
        }
        totalPaidToPayees += expectedTotal;
        ++batchesOk;
    }

    /// @notice The payee closes: with a fresh voucher, forfeiting (amount at or below settled, empty
    /// signature), with the highest voucher ever signed, or with a stranger's signature (must revert). A
    /// success must split the deposit exactly and is snapshotted.
    function close(uint256 channelSeed, uint256 amountSeed, uint256 modeSeed) external action(Action.Close) {
        ChannelInfo memory c = _pick(channelSeed);
        Model storage m = _model[c.id];
        uint256 mode = modeSeed % 4;
        bool room = m.settled < m.deposit;
        uint128 cum;
        bytes memory sig;
        bool validSig = true;
        if (mode == 0 && room) {
            cum = uint128(m.settled + bound(amountSeed, 1, m.deposit - m.settled));
            sig = _signVoucher(c, cum);
        } else if (mode == 2) {
            cum = m.maxSigned;
            sig = _signVoucher(c, cum); // deterministic (RFC 6979): the very voucher the payee holds
        } else if (mode == 3 && room) {
            cum = uint128(m.settled + bound(amountSeed, 1, m.deposit - m.settled));
            sig = VoucherSigner.sign(strangerKey, address(escrow), c.id, cum);
            validSig = false;
        } else {
            cum = uint128(bound(amountSeed, 0, m.settled)); // forfeit
        }

        (bool expectOk, bytes memory expectedErr) = _expectClose(c, m, cum, validSig);
        if (expectOk && cum > m.settled) _assertForgeriesRejected(c, cum, sig, true);

        uint256 payeeBefore = _balance(c.payee);
        uint256 payerBefore = _balance(c.payer);
        uint256 escrowBefore = _balance(address(escrow));
        vm.prank(c.payee);
        (bool ok, bytes memory err) = _call(abi.encodeCall(escrow.close, (c.id, cum, sig)));
        if (!_check("close", ok, err, expectOk, expectedErr)) return;
        if (!ok) return;

        uint128 finalSettled = cum > m.settled ? cum : m.settled;
        uint256 toPayee = _gain(payeeBefore, c.payee);
        uint256 toPayer = _gain(payerBefore, c.payer);
        if (toPayee != finalSettled - m.settled) _fail("close: payee did not receive exactly the final delta");
        if (toPayer != m.deposit - finalSettled) _fail("close: payer not refunded deposit - settled");
        if (_loss(escrowBefore, address(escrow)) != m.deposit - m.settled) _fail("close: escrow outflow");
        if (cum > m.settled) ++closedWithVoucher;
        else ++closedForfeit;

        m.paidToPayee += toPayee;
        m.refundedToPayer += toPayer;
        totalPaidToPayees += toPayee;
        totalRefunded += toPayer;
        m.settled = finalSettled;
        _finalize(c.id);
    }

    /// @notice The payer requests a forced close; repeating it must revert CloseAlreadyRequested.
    function requestClose(uint256 channelSeed) external action(Action.RequestClose) {
        _requestClose(_pick(channelSeed));
    }

    /// @notice Time passes (1 s to twice the grace period).
    function warp(uint256 secondsSeed) external action(Action.Warp) {
        ghostTime += bound(secondsSeed, 1, 2 * grace);
        vm.warp(ghostTime);
    }

    /// @notice The payer withdraws whenever it likes: the outcome (CloseNotRequested, CloseNotReady or an
    /// exact refund of deposit - settled) must match the model.
    function withdraw(uint256 channelSeed) external action(Action.Withdraw) {
        _withdraw(_pick(channelSeed));
    }

    /// @notice The whole forced close: request (if not pending), maybe a last settlement by the payee during
    /// the grace period, wait until it has elapsed, withdraw. The payer must recover exactly deposit - settled.
    function completeForcedClose(uint256 channelSeed, uint256 seed) external action(Action.CompleteForcedClose) {
        ChannelInfo memory c = _pick(channelSeed);
        Model storage m = _model[c.id];
        if (m.finalized) return;
        if (m.closeRequestedAt == 0 && !_requestClose(c)) return;

        if (seed % 2 == 0 && m.settled < m.deposit && ghostTime < m.closeRequestedAt + grace) {
            uint128 cum = uint128(m.settled + bound(seed >> 1, 1, m.deposit - m.settled));
            bytes memory sig = _signVoucher(c, cum);
            uint256 payeeBefore = _balance(c.payee);
            vm.prank(c.payee);
            (bool ok, bytes memory err) = _call(abi.encodeCall(escrow.settle, (c.id, cum, sig)));
            if (_check("settle during grace", ok, err, true, "")) {
                uint256 delta = cum - m.settled;
                if (_gain(payeeBefore, c.payee) != delta) _fail("grace settle: payee delta");
                m.settled = cum;
                m.paidToPayee += delta;
                totalPaidToPayees += delta;
                ++settledOk;
            }
        }

        uint256 readyAt = uint256(m.closeRequestedAt) + grace;
        if (ghostTime < readyAt) {
            ghostTime = readyAt + bound(seed >> 64, 0, grace);
            vm.warp(ghostTime);
        }
        _withdraw(c); // due by construction: `_withdraw` counts a refusal or a wrong refund
    }

    /// @notice Someone other than the payee settles/closes, or other than the payer tops up, requests a close
    /// or withdraws: must revert NotPayee / NotPayer (ChannelFinalized on a finalized channel).
    function strangerCall(uint256 channelSeed, uint256 whoSeed, uint256 whatSeed) external action(Action.StrangerCall) {
        ChannelInfo memory c = _pick(channelSeed);
        Model storage m = _model[c.id];
        uint256 what = whatSeed % 5;
        bool payeeOnly = what < 2;
        address caller = _intruder(whoSeed, payeeOnly ? c.payee : c.payer);

        bytes memory data;
        if (payeeOnly) {
            uint128 cum = m.settled < m.deposit ? m.settled + 1 : m.deposit;
            bytes memory sig = _signVoucher(c, cum);
            data = what == 0 ? abi.encodeCall(escrow.settle, (c.id, cum, sig)) : abi.encodeCall(escrow.close, (c.id, cum, sig));
        } else if (what == 2) {
            // Not funded: a payee's balance must stay what the escrow paid it. NotPayer comes first anyway.
            data = abi.encodeCall(escrow.topUp, (c.id, 1));
        } else {
            data = what == 3 ? abi.encodeCall(escrow.requestClose, (c.id)) : abi.encodeCall(escrow.withdraw, (c.id));
        }
        bytes memory expectedErr = m.finalized
            ? _finalizedErr(c.id)
            : payeeOnly
                ? abi.encodeWithSelector(ITollgateEscrow.NotPayee.selector, caller, c.payee)
                : abi.encodeWithSelector(ITollgateEscrow.NotPayer.selector, caller, c.payer);
        vm.prank(caller);
        (bool ok, bytes memory err) = _call(data);
        if (_check("strangerCall", ok, err, false, expectedErr)) ++rejectedAsExpected;
    }

    /// @notice A voucher signed for channel A is submitted on channel B by B's payee, with an amount B would
    /// accept: it must revert InvalidSignature.
    function replayVoucher(uint256 fromSeed, uint256 toSeed, uint256 amountSeed) external action(Action.ReplayVoucher) {
        ChannelInfo memory a = _channels[fromSeed % _channels.length];
        ChannelInfo memory b = _pick(toSeed);
        Model storage mb = _model[b.id];
        if (a.id == b.id || mb.finalized || mb.settled == mb.deposit) return;
        uint128 cum = uint128(mb.settled + bound(amountSeed, 1, mb.deposit - mb.settled));
        bytes memory sig = _signVoucher(a, cum);
        vm.prank(b.payee);
        (bool ok, bytes memory err) = _call(abi.encodeCall(escrow.settle, (b.id, cum, sig)));
        bytes memory expectedErr = abi.encodeWithSelector(ITollgateEscrow.InvalidSignature.selector, b.signer);
        if (_check("replayVoucher", ok, err, false, expectedErr)) ++rejectedAsExpected;
    }

    // ================================================================== views for the invariant suite

    function channelCount() external view returns (uint256) {
        return _channels.length;
    }

    function channelAt(uint256 i) external view returns (ChannelInfo memory) {
        return _channels[i];
    }

    function modelOf(bytes32 id) external view returns (Model memory) {
        return _model[id];
    }

    function snapshotOf(bytes32 id) external view returns (ITollgateEscrow.Channel memory) {
        return _snapshot[id];
    }

    function actionCalls(uint256 a) external view returns (uint256) {
        return _actionCalls[a];
    }

    function payerCount() external pure returns (uint256) {
        return ACTORS;
    }

    // ================================================================== internals

    function _openChannel(uint256 payerSeed, uint256 payeeSeed, uint256 signerSeed, uint256 depositSeed)
        internal
        returns (bool)
    {
        uint256 p = payerSeed % ACTORS;
        ChannelInfo memory c;
        c.payer = payers[p];
        c.payee = payees[payeeSeed % ACTORS];
        uint256 kind = signerSeed % 5;
        if (kind <= 1) {
            // 0: no delegate (payer signs); 1: the payer named explicitly as authorizedSigner.
            c.authorizedSigner = kind == 0 ? address(0) : c.payer;
            c.signer = c.payer;
            c.signerKey = payerKeys[p];
        } else if (kind <= 3) {
            c.signerKey = delegateKeys[kind - 2];
            c.signer = c.authorizedSigner = vm.addr(c.signerKey);
        } else {
            c.signerKey = walletOwnerKey;
            c.signer = c.authorizedSigner = address(wallet);
        }
        c.salt = keccak256(abi.encode("salt", _channels.length, payerSeed));
        uint128 deposit = uint128(bound(depositSeed, 1, MAX_AMOUNT));
        bytes32 expectedId =
            VoucherSigner.channelId(address(escrow), c.payer, c.payee, address(token), c.salt, c.authorizedSigner);
        _fund(c.payer, deposit);

        uint256 escrowBefore = _balance(address(escrow));
        vm.prank(c.payer);
        (bool ok, bytes memory ret) =
            _call(abi.encodeCall(escrow.open, (c.payee, address(token), deposit, c.salt, c.authorizedSigner)));
        if (!_check("open", ok, ret, true, "")) return false;
        c.id = abi.decode(ret, (bytes32));
        if (c.id != expectedId) _fail("open: channel id differs from the draft's hash");
        if (_gain(escrowBefore, address(escrow)) != deposit) _fail("open: escrow did not receive the deposit");

        _channels.push(c);
        _model[c.id].deposit = deposit;
        totalDeposited += deposit;
        ++opened;
        return true;
    }

    function _reopen(uint256 channelSeed) internal {
        ChannelInfo memory c = _channels[channelSeed % _channels.length];
        _fund(c.payer, 1);
        vm.prank(c.payer);
        (bool ok, bytes memory err) =
            _call(abi.encodeCall(escrow.open, (c.payee, address(token), 1, c.salt, c.authorizedSigner)));
        bytes memory expectedErr = abi.encodeWithSelector(ITollgateEscrow.ChannelAlreadyExists.selector, c.id);
        if (_check("reopen", ok, err, false, expectedErr)) ++rejectedAsExpected;
    }

    function _requestClose(ChannelInfo memory c) internal returns (bool ok) {
        Model storage m = _model[c.id];
        bool expectOk = !m.finalized && m.closeRequestedAt == 0;
        bytes memory expectedErr = m.finalized
            ? _finalizedErr(c.id)
            : abi.encodeWithSelector(ITollgateEscrow.CloseAlreadyRequested.selector, c.id, m.closeRequestedAt);
        vm.prank(c.payer);
        bytes memory err;
        (ok, err) = _call(abi.encodeCall(escrow.requestClose, (c.id)));
        if (!_check("requestClose", ok, err, expectOk, expectedErr)) return false;
        if (!ok) return false;
        if (escrow.getChannel(c.id).closeRequestedAt != ghostTime) _fail("requestClose: closeRequestedAt != now");
        m.closeRequestedAt = uint64(ghostTime);
    }

    /// @return refunded Whether the payer withdrew and got back exactly deposit - settled.
    function _withdraw(ChannelInfo memory c) internal returns (bool refunded) {
        Model storage m = _model[c.id];
        uint256 readyAt = uint256(m.closeRequestedAt) + grace;
        bool expectOk;
        bytes memory expectedErr;
        if (m.finalized) {
            expectedErr = _finalizedErr(c.id);
        } else if (m.closeRequestedAt == 0) {
            expectedErr = abi.encodeWithSelector(ITollgateEscrow.CloseNotRequested.selector, c.id);
        } else if (ghostTime < readyAt) {
            expectedErr = abi.encodeWithSelector(ITollgateEscrow.CloseNotReady.selector, readyAt, ghostTime);
        } else {
            expectOk = true;
        }

        uint256 payerBefore = _balance(c.payer);
        uint256 payeeBefore = _balance(c.payee);
        vm.prank(c.payer);
        (bool ok, bytes memory err) = _call(abi.encodeCall(escrow.withdraw, (c.id)));
        if (!_check("withdraw", ok, err, expectOk, expectedErr)) {
            if (expectOk) ++withdrawRefundFailures; // a due refund was refused
            return false;
        }
        if (!ok) return false;

        uint256 refund = _gain(payerBefore, c.payer);
        if (refund != m.deposit - m.settled) {
            ++withdrawRefundFailures;
            _fail(string.concat("withdraw: refund ", refund.toString(), " != deposit - settled"));
        } else {
            refunded = true;
        }
        if (_balance(c.payee) != payeeBefore) _fail("withdraw: payee balance moved");
        m.refundedToPayer += refund;
        totalRefunded += refund;
        ++withdrawn;
        _finalize(c.id);
    }

    function _finalize(bytes32 id) internal {
        _model[id].finalized = true;
        ITollgateEscrow.Channel memory ch = escrow.getChannel(id);
        if (!ch.finalized) _fail("finalizing call left finalized = false");
        _snapshot[id] = ch;
    }

    /// @dev A channel, chosen by `seed`. Usually the first live channel from the seeded position (opening a
    /// fresh one when all are finalized and there is room), one time in eight any channel, finalized or not.
    function _pick(uint256 seed) internal returns (ChannelInfo memory) {
        uint256 n = _channels.length;
        uint256 start = seed % n;
        if (uint256(keccak256(abi.encode(seed))) % 8 == 0) return _channels[start];
        for (uint256 k; k < n; ++k) {
            ChannelInfo storage c = _channels[(start + k) % n];
            if (!_model[c.id].finalized) return c;
        }
        if (n < MAX_CHANNELS && _openChannel(seed, seed >> 8, seed >> 16, seed >> 32)) return _channels[n];
        return _channels[start];
    }

    function _liveChannelsOf(address payee, uint256 seed, uint256 max)
        internal
        view
        returns (ChannelInfo[] memory picked, uint256 found)
    {
        picked = new ChannelInfo[](max);
        uint256 n = _channels.length;
        uint256 start = seed % n;
        for (uint256 k; k < n && found < max; ++k) {
            ChannelInfo storage c = _channels[(start + k) % n];
            Model storage m = _model[c.id];
            if (c.payee == payee && !m.finalized && m.settled < m.deposit) picked[found++] = c;
        }
    }

    /// @dev Mostly an amount in the settle window; sometimes the highest signed voucher, a stale amount, one
    /// above the deposit, or exactly the deposit.
    function _chooseAmount(Model storage m, uint256 amountSeed, uint256 modeSeed) internal view returns (uint128) {
        uint256 mode = modeSeed % 10;
        if (mode <= 5) {
            if (m.settled == m.deposit) return m.deposit;
            return uint128(m.settled + bound(amountSeed, 1, m.deposit - m.settled));
        }
        if (mode == 6) return m.maxSigned;
        if (mode == 7) return uint128(bound(amountSeed, 0, m.settled));
        if (mode == 8) return uint128(uint256(m.deposit) + bound(amountSeed, 1, MAX_AMOUNT));
        return m.deposit;
    }

    /// @dev The channel's signer signs a voucher; the model records the highest amount ever signed.
    function _signVoucher(ChannelInfo memory c, uint128 cum) internal returns (bytes memory) {
        Model storage m = _model[c.id];
        if (cum > m.maxSigned) m.maxSigned = cum;
        return VoucherSigner.sign(c.signerKey, address(escrow), c.id, cum);
    }

    /// @dev Before a voucher the escrow should accept, its high-s twin and the same voucher signed by a
    /// stranger must each be rejected with InvalidSignature(signer), changing nothing.
    function _assertForgeriesRejected(ChannelInfo memory c, uint128 cum, bytes memory sig, bool viaClose) internal {
        bytes memory expectedErr = abi.encodeWithSelector(ITollgateEscrow.InvalidSignature.selector, c.signer);
        bytes[2] memory forgeries =
            [VoucherSigner.highSTwin(sig), VoucherSigner.sign(strangerKey, address(escrow), c.id, cum)];
        for (uint256 i; i < 2; ++i) {
            bytes memory data = viaClose
                ? abi.encodeCall(escrow.close, (c.id, cum, forgeries[i]))
                : abi.encodeCall(escrow.settle, (c.id, cum, forgeries[i]));
            vm.prank(c.payee);
            (bool ok, bytes memory err) = _call(data);
            if (_check(i == 0 ? "high-s twin" : "stranger-signed voucher", ok, err, false, expectedErr)) {
                ++rejectedAsExpected;
            }
        }
    }

    function _expectRedeem(ChannelInfo memory c, Model storage m, uint128 cum, bool validSig)
        internal
        view
        returns (bool, bytes memory)
    {
        if (m.finalized) return (false, _finalizedErr(c.id));
        if (cum <= m.settled) {
            return (false, abi.encodeWithSelector(ITollgateEscrow.AmountNotIncreasing.selector, cum, m.settled));
        }
        if (cum > m.deposit) {
            return (false, abi.encodeWithSelector(ITollgateEscrow.AmountExceedsDeposit.selector, cum, m.deposit));
        }
        if (!validSig) return (false, abi.encodeWithSelector(ITollgateEscrow.InvalidSignature.selector, c.signer));
        return (true, "");
    }

    function _expectClose(ChannelInfo memory c, Model storage m, uint128 cum, bool validSig)
        internal
        view
        returns (bool, bytes memory)
    {
        if (!m.finalized && cum <= m.settled) return (true, ""); // forfeit: no voucher checked
        return _expectRedeem(c, m, cum, validSig);
    }

    /// @dev Someone other than `excluded`: the stranger, another payee or another payer.
    function _intruder(uint256 seed, address excluded) internal view returns (address) {
        address[7] memory pool = [stranger, payees[0], payees[1], payees[2], payers[0], payers[1], payers[2]];
        address who = pool[seed % 7];
        return who == excluded ? stranger : who;
    }

    function _fund(address who, uint256 amount) internal {
        token.mint(who, amount);
        vm.prank(who);
        token.approve(address(escrow), amount);
    }

    function _balance(address who) internal view returns (uint256) {
        return token.balanceOf(who);
    }

    /// @dev How much `who`'s balance grew since `before`; a decrease is recorded as a failure.
    function _gain(uint256 before, address who) internal returns (uint256) {
        uint256 now_ = _balance(who);
        if (now_ < before) {
            _fail("balance decreased where it should have grown");
            return 0;
        }
        return now_ - before;
    }

    /// @dev How much `who`'s balance shrank since `before`; an increase is recorded as a failure.
    function _loss(uint256 before, address who) internal returns (uint256) {
        uint256 now_ = _balance(who);
        if (now_ > before) {
            _fail("balance grew where it should have shrunk");
            return 0;
        }
        return before - now_;
    }

    function _call(bytes memory data) internal returns (bool ok, bytes memory ret) {
        (ok, ret) = address(escrow).call(data);
    }

    function _finalizedErr(bytes32 id) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITollgateEscrow.ChannelFinalized.selector, id);
    }

    /// @dev Compares an outcome with the prediction; on a mismatch records it and returns false.
    function _check(string memory what, bool ok, bytes memory err, bool expectOk, bytes memory expectedErr)
        internal
        returns (bool)
    {
        if (ok != expectOk) {
            _fail(string.concat(what, ok ? ": succeeded, expected a revert" : ": reverted, expected success"));
            return false;
        }
        if (!ok && keccak256(err) != keccak256(expectedErr)) {
            _fail(string.concat(what, ": unexpected revert data"));
            return false;
        }
        return true;
    }

    function _fail(string memory what) internal {
        ++unexpectedOutcomes;
        if (bytes(firstFailure).length == 0) {
            firstFailure = string.concat(what, " (call #", totalCalls.toString(), ")");
        }
    }
}
