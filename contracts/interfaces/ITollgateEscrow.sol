// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ITollgateEscrow
/// @notice Escrow for unidirectional ERC-20 payment channels, as specified by the MPP `evm` session draft.
/// A payer deposits tokens into a channel with a payee and signs EIP-712 vouchers carrying a cumulative
/// amount; the payee redeems the highest voucher with `settle` or `close`. A payer whose payee stops
/// answering calls `requestClose` and, after `CLOSE_GRACE_PERIOD`, `withdraw`s what was never settled.
/// @dev Channel records are never deleted: `finalized` is sticky, so a used channel id can never be
/// opened again and old vouchers can never be replayed against a new deposit.
interface ITollgateEscrow {
    /// @notice The state of one channel, as the draft's "Channel State" table lists it.
    struct Channel {
        address payer;
        address payee;
        address token;
        /// @dev Voucher signer; `address(0)` means the payer signs.
        address authorizedSigner;
        uint128 deposit;
        /// @dev Cumulative amount already paid out to the payee.
        uint128 settled;
        /// @dev When the payer requested a forced close; 0 when none is pending.
        uint64 closeRequestedAt;
        bool finalized;
    }

    /// @notice One voucher redeemed by `settleBatch`.
    struct VoucherClaim {
        bytes32 channelId;
        uint128 cumulativeAmount;
        bytes signature;
    }

    // ---------------------------------------------------------------- events

    /// @notice A channel was opened; `authorizedSigner` is `address(0)` when the payer signs vouchers.
    event ChannelOpened(
        bytes32 indexed channelId,
        address indexed payer,
        address indexed payee,
        address token,
        address authorizedSigner,
        uint256 deposit
    );

    /// @notice Funds were added to a channel; `deposit` is the new total.
    event ChannelToppedUp(bytes32 indexed channelId, uint256 additionalDeposit, uint256 deposit);

    /// @notice The payee redeemed a voucher: `settled` is the new cumulative total paid out. The amount of
    /// this payout is the difference from the channel's previous `settled` (its open or last settlement);
    /// leaving it out saves 256 gas on every settlement, in batches on every claim.
    event ChannelSettled(bytes32 indexed channelId, uint256 settled);

    /// @notice The payer started a forced close; `withdraw` opens at `closeRequestedAt + CLOSE_GRACE_PERIOD`.
    event CloseRequested(bytes32 indexed channelId, uint256 closeRequestedAt);

    /// @notice A top-up cancelled the pending forced close.
    event CloseRequestCancelled(bytes32 indexed channelId);

    /// @notice The payee closed the channel: `settled` is the final cumulative total (of which `amount` was
    /// paid out by this close) and `refund` went back to the payer.
    event ChannelClosed(bytes32 indexed channelId, uint256 settled, uint256 amount, uint256 refund);

    /// @notice The payer withdrew `refund` after the grace period, finalizing the channel.
    event ChannelWithdrawn(bytes32 indexed channelId, uint256 refund);

    // ---------------------------------------------------------------- errors

    error ChannelAlreadyExists(bytes32 channelId);
    error ChannelNotFound(bytes32 channelId);
    error ChannelFinalized(bytes32 channelId);
    error NotPayee(address caller, address payee);
    error NotPayer(address caller, address payer);
    error InvalidPayee(address payee);
    error InvalidPayer(address payer);
    error ZeroDeposit();
    /// @dev Deposits are stored in 96 bits (7.9e28 base units), which keeps a channel in three storage slots.
    error DepositOverflow(uint256 deposit, uint256 maxDeposit);
    /// @dev The token delivered a different amount than requested (fee-on-transfer or rebasing token).
    error TransferAmountMismatch(uint256 expected, uint256 received);
    error AmountNotIncreasing(uint128 cumulativeAmount, uint128 settled);
    error AmountExceedsDeposit(uint128 cumulativeAmount, uint128 deposit);
    /// @dev The signature is malformed, high-s, or not from `signer` (EOA or ERC-1271 wallet).
    error InvalidSignature(address signer);
    error NonceMismatch(bytes32 expected, bytes32 actual);
    error NonceAlreadyUsed(address payee, bytes32 channelId, uint256 nonce);
    error AuthorizationExpired(uint256 deadline, uint256 timestamp);
    error CloseAlreadyRequested(bytes32 channelId, uint256 closeRequestedAt);
    error CloseNotRequested(bytes32 channelId);
    error CloseNotReady(uint256 readyAt, uint256 timestamp);
    error TokenMismatch(bytes32 channelId, address token, address expectedToken);

    // ---------------------------------------------------------------- core

    /// @notice Opens a channel funded by the caller, who becomes its payer. Pulls `deposit` with
    /// `transferFrom`, so the caller must have approved at least `deposit` to this contract.
    /// @param payee Receives the vouchers' amounts.
    /// @param token ERC-20 held in the channel; it must transfer exactly the amount requested.
    /// @param deposit Amount escrowed, in the token's base units; non-zero, at most `MAX_DEPOSIT`.
    /// @param salt Any value that makes the channel id unique for these parties.
    /// @param authorizedSigner Key that signs vouchers in the payer's stead, or `address(0)` for the payer.
    /// @return channelId `computeChannelId(msg.sender, payee, token, salt, authorizedSigner)`.
    function open(address payee, address token, uint128 deposit, bytes32 salt, address authorizedSigner)
        external
        returns (bytes32 channelId);

    /// @notice Adds funds to the caller's channel and cancels a pending forced close.
    function topUp(bytes32 channelId, uint128 additionalDeposit) external;

    /// @notice Pays the payee the difference between a voucher's `cumulativeAmount` and what was already
    /// settled. Allowed during the grace period of a forced close. Only the payee may call.
    function settle(bytes32 channelId, uint128 cumulativeAmount, bytes calldata signature) external;

    /// @notice Settles many of the caller's channels in `token` with one token transfer.
    /// @dev Atomic: one invalid claim reverts the whole batch.
    /// @return amount Total paid out to the caller.
    function settleBatch(address token, VoucherClaim[] calldata claims) external returns (uint256 amount);

    /// @notice Settles a final voucher, refunds the rest to the payer and finalizes the channel. With
    /// `cumulativeAmount <= settled` the payee forfeits anything unsettled and `signature` may be empty.
    /// Only the payee may call.
    function close(bytes32 channelId, uint128 cumulativeAmount, bytes calldata signature) external;

    /// @notice Starts a forced close: after `CLOSE_GRACE_PERIOD` the payer may `withdraw`. The payee can
    /// still settle or close until then. Only the payer may call.
    function requestClose(bytes32 channelId) external;

    /// @notice Refunds `deposit - settled` to the payer once the grace period of a requested close has
    /// elapsed, and finalizes the channel. Only the payer may call.
    function withdraw(bytes32 channelId) external;

    // ---------------------------------------------------------------- relayed profile

    /// @notice Opens a channel for `from`, pulling `deposit` with EIP-3009 `receiveWithAuthorization`.
    /// @param nonce Must equal `keccak256(abi.encode(from, payee, token, salt, authorizedSigner))`, which
    /// binds the payer's token authorization to these channel parameters.
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
    ) external returns (bytes32 channelId);

    /// @notice Adds funds from `from` to a channel with EIP-3009 `receiveWithAuthorization`; the refund of
    /// a close still goes to the channel's payer. It cancels a pending forced close only when `from` is the
    /// payer: anyone else's top-up adds funds and nothing more.
    /// @param nonce Must equal `keccak256(abi.encode(channelId, additionalDeposit, from, topUpSalt))`.
    function topUpWithAuthorization(
        bytes32 channelId,
        uint128 additionalDeposit,
        address from,
        bytes32 topUpSalt,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external;

    /// @notice `settle`, submitted by anyone, on the payee's EIP-712 `SettleAuthorization`.
    function settleWithAuthorization(
        bytes32 channelId,
        uint128 cumulativeAmount,
        uint256 nonce,
        uint256 deadline,
        bytes calldata payeeSignature,
        bytes calldata voucherSignature
    ) external;

    /// @notice `close`, submitted by anyone, on the payee's EIP-712 `CloseAuthorization`.
    function closeWithAuthorization(
        bytes32 channelId,
        uint128 cumulativeAmount,
        uint256 nonce,
        uint256 deadline,
        bytes calldata payeeSignature,
        bytes calldata voucherSignature
    ) external;

    // ---------------------------------------------------------------- views

    /// @notice Seconds between `requestClose` and the earliest `withdraw` (15 minutes).
    function CLOSE_GRACE_PERIOD() external view returns (uint64);

    /// @notice Largest total deposit one channel can hold: 2^95 - 1.
    function MAX_DEPOSIT() external view returns (uint128);

    /// @notice `keccak256("Voucher(bytes32 channelId,uint128 cumulativeAmount)")`.
    function VOUCHER_TYPEHASH() external view returns (bytes32);

    /// @notice A channel's state. Once `finalized`, `payee` and `closeRequestedAt` read as zero (the escrow
    /// clears them for a gas refund; `ChannelOpened` and `CloseRequested` carry them); `settled` is final.
    function getChannel(bytes32 channelId) external view returns (Channel memory);

    function computeChannelId(address payer, address payee, address token, bytes32 salt, address authorizedSigner)
        external
        view
        returns (bytes32);

    /// @notice The EIP-712 digest a voucher's signer signs.
    function getVoucherDigest(bytes32 channelId, uint128 cumulativeAmount) external view returns (bytes32);

    function domainSeparator() external view returns (bytes32);

    /// @notice Whether the payee authorization `nonce` was consumed for this channel.
    function isPayeeNonceUsed(address payee, bytes32 channelId, uint256 nonce) external view returns (bool);
}
