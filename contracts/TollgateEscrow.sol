// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IERC3009} from "./interfaces/IERC3009.sol";
import {ITollgateEscrow} from "./interfaces/ITollgateEscrow.sol";
import {EscrowHashes} from "./libraries/EscrowHashes.sol";
import {VoucherSignature} from "./libraries/VoucherSignature.sol";

/// @title TollgateEscrow
/// @notice Payment-channel escrow of the MPP `evm` session draft: mandatory core, EIP-3009 and payee
/// authorization relayed profile, and `settleBatch`. See {ITollgateEscrow} for the behaviour of each call.
contract TollgateEscrow is ITollgateEscrow, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    uint64 public constant CLOSE_GRACE_PERIOD = 15 minutes;
    uint128 public constant MAX_DEPOSIT = type(uint96).max;
    bytes32 public constant VOUCHER_TYPEHASH = EscrowHashes.VOUCHER_TYPEHASH;

    /// @dev Three storage slots, grouped by what calls read together:
    /// slot 0 (payer, closeRequestedAt, finalized, hasAuthorizedSigner) is all `requestClose` needs;
    /// slot 1 (payee, settled) and slot 2 (token, deposit) complete what vouchers and payouts need.
    struct ChannelRecord {
        address payer;
        uint64 closeRequestedAt;
        bool finalized;
        bool hasAuthorizedSigner;
        address payee;
        uint96 settled;
        address token;
        uint96 deposit;
    }

    mapping(bytes32 channelId => ChannelRecord) private _channels;
    /// @dev Written only for channels with a delegated signer, so the common case stays at three slots.
    mapping(bytes32 channelId => address) private _authorizedSigners;
    mapping(address payee => mapping(bytes32 channelId => mapping(uint256 nonce => bool))) private _usedPayeeNonces;

    constructor() EIP712("EVM Payment Channel", "1") {}

    // ------------------------------------------------------------------ core

    function open(address payee, address token, uint128 deposit, bytes32 salt, address authorizedSigner)
        external
        returns (bytes32 channelId)
    {
        channelId = _open(msg.sender, payee, token, deposit, salt, authorizedSigner);
        _receiveFrom(token, msg.sender, deposit);
    }

    function topUp(bytes32 channelId, uint128 additionalDeposit) external {
        ChannelRecord storage channel = _liveChannel(channelId);
        _requirePayer(channel.payer);
        address token = _addDeposit(channelId, channel, additionalDeposit, true);
        _receiveFrom(token, msg.sender, additionalDeposit);
    }

    function settle(bytes32 channelId, uint128 cumulativeAmount, bytes calldata signature) external {
        _settle(channelId, msg.sender, cumulativeAmount, signature);
    }

    function settleBatch(address token, VoucherClaim[] calldata claims) external returns (uint256 amount) {
        for (uint256 i; i < claims.length; ++i) {
            VoucherClaim calldata claim = claims[i];
            bytes32 channelId = claim.channelId;
            (address channelToken, uint256 claimed) =
                _redeem(channelId, msg.sender, claim.cumulativeAmount, claim.signature);
            // Checked after `_redeem` so that each slot is read once; a mismatch reverts the whole batch.
            if (channelToken != token) revert TokenMismatch(channelId, channelToken, token);
            emit ChannelSettled(channelId, claim.cumulativeAmount);
            amount += claimed;
        }
        if (amount != 0) IERC20(token).safeTransfer(msg.sender, amount);
    }

    function close(bytes32 channelId, uint128 cumulativeAmount, bytes calldata signature) external {
        _close(channelId, msg.sender, cumulativeAmount, signature);
    }

    function requestClose(bytes32 channelId) external {
        ChannelRecord storage channel = _liveChannel(channelId);
        _requirePayer(channel.payer);
        uint64 closeRequestedAt = channel.closeRequestedAt;
        if (closeRequestedAt != 0) revert CloseAlreadyRequested(channelId, closeRequestedAt);
        channel.closeRequestedAt = uint64(block.timestamp);
        emit CloseRequested(channelId, block.timestamp);
    }

    function withdraw(bytes32 channelId) external {
        ChannelRecord storage channel = _liveChannel(channelId);
        address payer = channel.payer;
        _requirePayer(payer);
        uint256 closeRequestedAt = channel.closeRequestedAt;
        if (closeRequestedAt == 0) revert CloseNotRequested(channelId);
        uint256 readyAt = closeRequestedAt + CLOSE_GRACE_PERIOD;
        if (block.timestamp < readyAt) revert CloseNotReady(readyAt, block.timestamp);

        channel.finalized = true;
        uint256 refund;
        // Cannot underflow: every write of `settled` checks it against `deposit`, which only grows.
        unchecked {
            refund = uint256(channel.deposit) - channel.settled;
        }
        emit ChannelWithdrawn(channelId, refund);
        if (refund != 0) IERC20(channel.token).safeTransfer(payer, refund);
    }

    // ------------------------------------------------------------------ relayed profile

    function openWithAuthorization(
        address payee,
        address token,
        uint128 deposit,
        bytes32 salt,
        address authorizedSigner,
        address from,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external nonReentrant returns (bytes32 channelId) {
        if (from == address(0)) revert InvalidPayer(from);
        bytes32 expectedNonce = EscrowHashes.openNonce(from, payee, token, salt, authorizedSigner);
        if (nonce != expectedNonce) revert NonceMismatch(expectedNonce, nonce);
        channelId = _open(from, payee, token, deposit, salt, authorizedSigner);
        _receiveWithAuthorization(token, from, deposit, validAfter, validBefore, nonce, signature);
    }

    function topUpWithAuthorization(
        bytes32 channelId,
        uint128 additionalDeposit,
        address from,
        bytes32 topUpSalt,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external nonReentrant {
        bytes32 expectedNonce = EscrowHashes.topUpNonce(channelId, additionalDeposit, from, topUpSalt);
        if (nonce != expectedNonce) revert NonceMismatch(expectedNonce, nonce);
        ChannelRecord storage channel = _liveChannel(channelId);
        // Anyone may add funds, but only the payer's own money withdraws the payer's forced close: a
        // payee able to cancel it with a one-unit top-up could keep the deposit locked for ever.
        address token = _addDeposit(channelId, channel, additionalDeposit, from == channel.payer);
        _receiveWithAuthorization(token, from, additionalDeposit, validAfter, validBefore, nonce, signature);
    }

    function settleWithAuthorization(
        bytes32 channelId,
        uint128 cumulativeAmount,
        uint256 nonce,
        uint256 deadline,
        bytes calldata payeeSignature,
        bytes calldata voucherSignature
    ) external nonReentrant {
        address payee = _liveChannel(channelId).payee;
        _consumePayeeAuthorization(
            EscrowHashes.SETTLE_AUTHORIZATION_TYPEHASH, payee, channelId, cumulativeAmount, nonce, deadline, payeeSignature
        );
        _settle(channelId, payee, cumulativeAmount, voucherSignature);
    }

    function closeWithAuthorization(
        bytes32 channelId,
        uint128 cumulativeAmount,
        uint256 nonce,
        uint256 deadline,
        bytes calldata payeeSignature,
        bytes calldata voucherSignature
    ) external nonReentrant {
        address payee = _liveChannel(channelId).payee;
        _consumePayeeAuthorization(
            EscrowHashes.CLOSE_AUTHORIZATION_TYPEHASH, payee, channelId, cumulativeAmount, nonce, deadline, payeeSignature
        );
        _close(channelId, payee, cumulativeAmount, voucherSignature);
    }

    // ------------------------------------------------------------------ views

    function getChannel(bytes32 channelId) external view returns (Channel memory) {
        ChannelRecord storage channel = _channels[channelId];
        return Channel({
            payer: channel.payer,
            payee: channel.payee,
            token: channel.token,
            authorizedSigner: channel.hasAuthorizedSigner ? _authorizedSigners[channelId] : address(0),
            deposit: channel.deposit,
            settled: channel.settled,
            closeRequestedAt: channel.closeRequestedAt,
            finalized: channel.finalized
        });
    }

    function computeChannelId(address payer, address payee, address token, bytes32 salt, address authorizedSigner)
        external
        view
        returns (bytes32)
    {
        return EscrowHashes.channelId(payer, payee, token, salt, authorizedSigner, address(this));
    }

    function getVoucherDigest(bytes32 channelId, uint128 cumulativeAmount) external view returns (bytes32) {
        return _hashTypedDataV4(EscrowHashes.voucher(channelId, cumulativeAmount));
    }

    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function isPayeeNonceUsed(address payee, bytes32 channelId, uint256 nonce) external view returns (bool) {
        return _usedPayeeNonces[payee][channelId][nonce];
    }

    // ------------------------------------------------------------------ internals

    function _open(
        address payer,
        address payee,
        address token,
        uint128 deposit,
        bytes32 salt,
        address authorizedSigner
    ) private returns (bytes32 channelId) {
        if (payee == address(0)) revert InvalidPayee(payee);
        if (deposit == 0) revert ZeroDeposit();
        if (deposit > MAX_DEPOSIT) revert DepositOverflow(deposit, MAX_DEPOSIT);
        channelId = EscrowHashes.channelId(payer, payee, token, salt, authorizedSigner, address(this));
        ChannelRecord storage channel = _channels[channelId];
        if (channel.payer != address(0)) revert ChannelAlreadyExists(channelId);

        bool hasAuthorizedSigner = authorizedSigner != address(0);
        channel.payer = payer;
        channel.hasAuthorizedSigner = hasAuthorizedSigner;
        channel.payee = payee;
        channel.token = token;
        channel.deposit = uint96(deposit);
        if (hasAuthorizedSigner) _authorizedSigners[channelId] = authorizedSigner;
        emit ChannelOpened(channelId, payer, payee, token, authorizedSigner, deposit);
    }

    /// @dev Records a top-up, cancelling a pending close when `cancelsClose`; returns the channel's token.
    function _addDeposit(bytes32 channelId, ChannelRecord storage channel, uint128 additionalDeposit, bool cancelsClose)
        private
        returns (address token)
    {
        if (additionalDeposit == 0) revert ZeroDeposit();
        uint256 deposit = uint256(channel.deposit) + additionalDeposit;
        if (deposit > MAX_DEPOSIT) revert DepositOverflow(deposit, MAX_DEPOSIT);
        channel.deposit = uint96(deposit);
        if (cancelsClose && channel.closeRequestedAt != 0) {
            channel.closeRequestedAt = 0;
            emit CloseRequestCancelled(channelId);
        }
        emit ChannelToppedUp(channelId, additionalDeposit, deposit);
        return channel.token;
    }

    function _settle(bytes32 channelId, address payee, uint128 cumulativeAmount, bytes calldata signature) private {
        (address token, uint256 amount) = _redeem(channelId, payee, cumulativeAmount, signature);
        emit ChannelSettled(channelId, cumulativeAmount);
        IERC20(token).safeTransfer(payee, amount);
    }

    function _close(bytes32 channelId, address payee, uint128 cumulativeAmount, bytes calldata signature) private {
        ChannelRecord storage channel = _liveChannel(channelId);
        _requirePayee(payee, channel.payee);
        // At or below what is settled, the payee forfeits the rest and no voucher is needed.
        uint256 amount;
        if (cumulativeAmount > channel.settled) (, amount) = _redeem(channelId, payee, cumulativeAmount, signature);
        channel.finalized = true;
        uint256 settled = channel.settled;
        uint256 refund;
        // Cannot underflow: `settled` never exceeds `deposit` (checked on every write of `settled`).
        unchecked {
            refund = channel.deposit - settled;
        }
        emit ChannelClosed(channelId, settled, amount, refund);
        IERC20 token = IERC20(channel.token);
        if (amount != 0) token.safeTransfer(payee, amount);
        if (refund != 0) token.safeTransfer(channel.payer, refund);
    }

    /// @dev Redeems a voucher on a live channel of `payee`: checks it, then records it as settled. Returns
    /// the token and the amount owed to the payee, which the caller pays out after its own effects. Reads
    /// each of the channel's slots once, as a batch redeems one voucher per claim.
    function _redeem(bytes32 channelId, address payee, uint128 cumulativeAmount, bytes calldata signature)
        private
        returns (address token, uint256 amount)
    {
        ChannelRecord storage channel = _channels[channelId];
        (address payer, bool finalized, bool hasAuthorizedSigner) =
            (channel.payer, channel.finalized, channel.hasAuthorizedSigner);
        _requireLive(channelId, payer, finalized);
        (address channelPayee, uint96 settled) = (channel.payee, channel.settled);
        _requirePayee(payee, channelPayee);
        uint96 deposit;
        (token, deposit) = (channel.token, channel.deposit);
        if (cumulativeAmount <= settled) revert AmountNotIncreasing(cumulativeAmount, settled);
        if (cumulativeAmount > deposit) revert AmountExceedsDeposit(cumulativeAmount, deposit);
        address signer = hasAuthorizedSigner ? _authorizedSigners[channelId] : payer;
        bytes32 digest = _hashTypedDataV4(EscrowHashes.voucher(channelId, cumulativeAmount));
        if (!VoucherSignature.isValid(signer, digest, signature)) revert InvalidSignature(signer);

        // Both fields of slot 1 are written together, so the slot is not read again.
        // Fits: cumulativeAmount <= deposit <= MAX_DEPOSIT.
        channel.payee = payee;
        channel.settled = uint96(cumulativeAmount);
        // Cannot underflow: cumulativeAmount > settled was checked above.
        unchecked {
            amount = cumulativeAmount - settled;
        }
    }

    function _consumePayeeAuthorization(
        bytes32 typehash,
        address payee,
        bytes32 channelId,
        uint128 cumulativeAmount,
        uint256 nonce,
        uint256 deadline,
        bytes calldata payeeSignature
    ) private {
        if (block.timestamp > deadline) revert AuthorizationExpired(deadline, block.timestamp);
        mapping(uint256 => bool) storage used = _usedPayeeNonces[payee][channelId];
        if (used[nonce]) revert NonceAlreadyUsed(payee, channelId, nonce);
        bytes32 digest =
            _hashTypedDataV4(EscrowHashes.payeeAuthorization(typehash, channelId, cumulativeAmount, nonce, deadline));
        if (!VoucherSignature.isValid(payee, digest, payeeSignature)) revert InvalidSignature(payee);
        used[nonce] = true;
    }

    function _liveChannel(bytes32 channelId) private view returns (ChannelRecord storage channel) {
        channel = _channels[channelId];
        _requireLive(channelId, channel.payer, channel.finalized);
    }

    function _requireLive(bytes32 channelId, address payer, bool finalized) private pure {
        if (payer == address(0)) revert ChannelNotFound(channelId);
        if (finalized) revert ChannelFinalized(channelId);
    }

    function _requirePayer(address payer) private view {
        if (msg.sender != payer) revert NotPayer(msg.sender, payer);
    }

    function _requirePayee(address caller, address payee) private pure {
        if (caller != payee) revert NotPayee(caller, payee);
    }

    function _receiveFrom(address token, address from, uint256 amount) private {
        uint256 balanceBefore = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(from, address(this), amount);
        _requireReceived(token, balanceBefore, amount);
    }

    function _receiveWithAuthorization(
        address token,
        address from,
        uint256 amount,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) private {
        uint256 balanceBefore = IERC20(token).balanceOf(address(this));
        IERC3009(token).receiveWithAuthorization(from, address(this), amount, validAfter, validBefore, nonce, signature);
        _requireReceived(token, balanceBefore, amount);
    }

    /// @dev A fee-on-transfer or rebasing token would leave `deposit` above what the escrow holds.
    function _requireReceived(address token, uint256 balanceBefore, uint256 expected) private view {
        uint256 balanceAfter = IERC20(token).balanceOf(address(this));
        if (balanceAfter != balanceBefore + expected) {
            revert TransferAmountMismatch(expected, balanceAfter > balanceBefore ? balanceAfter - balanceBefore : 0);
        }
    }
}
