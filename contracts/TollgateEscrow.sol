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
    /// @dev 2^95 - 1, so that a finalized record holds its final `settled` in slot 0 beside FINALIZED.
    uint128 public constant MAX_DEPOSIT = type(uint96).max >> 1;
    bytes32 public constant VOUCHER_TYPEHASH = EscrowHashes.VOUCHER_TYPEHASH;

    /// @dev Set in `flags` once the channel is finalized.
    uint32 private constant FINALIZED = 1;
    /// @dev Set in a live channel's `flags` when `_authorizedSigners` holds its signer.
    uint32 private constant HAS_AUTHORIZED_SIGNER = 2;

    /// @dev Three storage slots, grouped by what calls read together: slot 0 (payer, closeRequestedAt,
    /// flags) is all `requestClose` needs; slot 1 (payee, settled) and slot 2 (token, deposit) complete
    /// what vouchers and payouts need. Finalizing writes slot 0 anyway; it also moves the final `settled`
    /// there (its low 64 bits in `closeRequestedAt`, the rest above FINALIZED in `flags`) and clears
    /// slot 1, whose gas refund pays for most of a close (docs/escrow.md). {getChannel} decodes both forms.
    struct ChannelRecord {
        address payer;
        uint64 closeRequestedAt;
        uint32 flags;
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
        (ChannelRecord storage channel, uint64 closeRequestedAt) = _liveChannelToTopUp(channelId);
        _requirePayer(channel.payer);
        address token = _addDeposit(channelId, channel, additionalDeposit, closeRequestedAt != 0);
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

        uint96 settled = channel.settled;
        _finalize(channel, settled);
        uint256 refund;
        // Cannot underflow: every write of `settled` checks it against `deposit`, which only grows.
        unchecked {
            refund = uint256(channel.deposit) - settled;
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
        (ChannelRecord storage channel, uint64 closeRequestedAt) = _liveChannelToTopUp(channelId);
        // Anyone may add funds, but only the payer's own money withdraws the payer's forced close: a
        // payee able to cancel it with a one-unit top-up could keep the deposit locked for ever.
        address token =
            _addDeposit(channelId, channel, additionalDeposit, closeRequestedAt != 0 && from == channel.payer);
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
        uint32 flags = channel.flags;
        bool finalized = flags & FINALIZED != 0;
        return Channel({
            payer: channel.payer,
            payee: channel.payee,
            token: channel.token,
            authorizedSigner: _authorizedSigners[channelId],
            deposit: channel.deposit,
            settled: finalized ? (uint128(flags >> 1) << 64) | channel.closeRequestedAt : channel.settled,
            closeRequestedAt: finalized ? 0 : channel.closeRequestedAt,
            finalized: finalized
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

        uint32 flags;
        if (authorizedSigner != address(0)) {
            flags = HAS_AUTHORIZED_SIGNER;
            _authorizedSigners[channelId] = authorizedSigner;
        }
        (channel.payer, channel.flags) = (payer, flags);
        (channel.payee, channel.token, channel.deposit) = (payee, token, uint96(deposit));
        emit ChannelOpened(channelId, payer, payee, token, authorizedSigner, deposit);
    }

    /// @dev Records a top-up, cancelling the pending close when `cancelsClose`; returns the channel's token.
    function _addDeposit(bytes32 channelId, ChannelRecord storage channel, uint128 additionalDeposit, bool cancelsClose)
        private
        returns (address token)
    {
        if (additionalDeposit == 0) revert ZeroDeposit();
        uint256 deposit = uint256(channel.deposit) + additionalDeposit;
        if (deposit > MAX_DEPOSIT) revert DepositOverflow(deposit, MAX_DEPOSIT);
        channel.deposit = uint96(deposit);
        if (cancelsClose) {
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
        (address payer, uint32 flags) = (channel.payer, channel.flags);
        (address channelPayee, uint96 settled) = (channel.payee, channel.settled);
        _requirePayee(payee, channelPayee);
        (address token, uint96 deposit) = (channel.token, channel.deposit);
        // At or below what is settled, the payee forfeits the rest and no voucher is needed.
        uint256 amount;
        if (cumulativeAmount > settled) {
            if (cumulativeAmount > deposit) revert AmountExceedsDeposit(cumulativeAmount, deposit);
            _requireVoucherSigned(channelId, payer, flags, cumulativeAmount, signature);
            // Cannot underflow: cumulativeAmount > settled. Fits: cumulativeAmount <= deposit <= MAX_DEPOSIT.
            unchecked {
                amount = cumulativeAmount - settled;
            }
            settled = uint96(cumulativeAmount);
        }
        _finalize(channel, settled);
        uint256 refund;
        // Cannot underflow: `settled` never exceeds `deposit` (checked above and on every write of `settled`).
        unchecked {
            refund = deposit - settled;
        }
        emit ChannelClosed(channelId, settled, amount, refund);
        if (amount != 0) IERC20(token).safeTransfer(payee, amount);
        if (refund != 0) IERC20(token).safeTransfer(payer, refund);
    }

    /// @dev Marks the channel finalized with its final `settled` in slot 0 and clears slot 1 (payee,
    /// settled): {getChannel} then reads `settled` from slot 0 and `payee` as zero.
    function _finalize(ChannelRecord storage channel, uint96 settled) private {
        // Fits: settled <= deposit <= MAX_DEPOSIT < 2^95, so its bits 64-94 fill the 31 bits above FINALIZED.
        (channel.closeRequestedAt, channel.flags) = (uint64(settled), uint32(settled >> 64) << 1 | FINALIZED);
        (channel.payee, channel.settled) = (address(0), 0);
    }

    /// @dev Redeems a voucher on a live channel of `payee`: checks it, then records it as settled. Returns
    /// the token and the amount owed to the payee, which the caller pays out after its own effects. Reads
    /// each of the channel's slots once, as a batch redeems one voucher per claim.
    function _redeem(bytes32 channelId, address payee, uint128 cumulativeAmount, bytes calldata signature)
        private
        returns (address token, uint256 amount)
    {
        ChannelRecord storage channel = _channels[channelId];
        (address payer, uint32 flags) = (channel.payer, channel.flags);
        _requireLive(channelId, payer, flags);
        (address channelPayee, uint96 settled) = (channel.payee, channel.settled);
        _requirePayee(payee, channelPayee);
        uint96 deposit;
        (token, deposit) = (channel.token, channel.deposit);
        if (cumulativeAmount <= settled) revert AmountNotIncreasing(cumulativeAmount, settled);
        if (cumulativeAmount > deposit) revert AmountExceedsDeposit(cumulativeAmount, deposit);
        address signer = flags & HAS_AUTHORIZED_SIGNER != 0 ? _authorizedSigners[channelId] : payer;
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

    /// @dev Reverts unless `signature` is the channel's signer's (its authorized signer, else its payer).
    function _requireVoucherSigned(
        bytes32 channelId,
        address payer,
        uint32 flags,
        uint128 cumulativeAmount,
        bytes calldata signature
    ) private view {
        address signer = flags & HAS_AUTHORIZED_SIGNER != 0 ? _authorizedSigners[channelId] : payer;
        bytes32 digest = _hashTypedDataV4(EscrowHashes.voucher(channelId, cumulativeAmount));
        if (!VoucherSignature.isValid(signer, digest, signature)) revert InvalidSignature(signer);
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
        _requireLive(channelId, channel.payer, channel.flags);
    }

    /// @dev {_liveChannel} with its `closeRequestedAt`, read with the rest of slot 0, for the top-ups.
    function _liveChannelToTopUp(bytes32 channelId)
        private
        view
        returns (ChannelRecord storage channel, uint64 closeRequestedAt)
    {
        channel = _channels[channelId];
        closeRequestedAt = channel.closeRequestedAt;
        _requireLive(channelId, channel.payer, channel.flags);
    }

    function _requireLive(bytes32 channelId, address payer, uint32 flags) private pure {
        if (payer == address(0)) revert ChannelNotFound(channelId);
        if (flags & FINALIZED != 0) revert ChannelFinalized(channelId);
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
