// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IERC3009
/// @notice The part of EIP-3009 (transfer with authorization) the escrow calls: the USDC v2.2 overload
/// that takes the packed 65-byte signature (or an ERC-1271 signature) as `bytes`.
interface IERC3009 {
    /// @notice Moves `value` from `from` to the caller; the caller must be `to`, which stops a relayer's
    /// transaction from being front-run by a direct call to the token.
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external;
}
