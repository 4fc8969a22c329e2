// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title EscrowHashes
/// @notice Every typehash and derived identifier of the escrow, in one place. Off-chain code (the SDK)
/// derives the same values; `test/vectors/` pins them.
library EscrowHashes {
    bytes32 internal constant VOUCHER_TYPEHASH = keccak256("Voucher(bytes32 channelId,uint128 cumulativeAmount)");

    bytes32 internal constant SETTLE_AUTHORIZATION_TYPEHASH =
        keccak256("SettleAuthorization(bytes32 channelId,uint128 cumulativeAmount,uint256 nonce,uint256 deadline)");

    bytes32 internal constant CLOSE_AUTHORIZATION_TYPEHASH =
        keccak256("CloseAuthorization(bytes32 channelId,uint128 cumulativeAmount,uint256 nonce,uint256 deadline)");

    function channelId(
        address payer,
        address payee,
        address token,
        bytes32 salt,
        address authorizedSigner,
        address escrow
    ) internal view returns (bytes32) {
        return keccak256(abi.encode(payer, payee, token, salt, authorizedSigner, escrow, block.chainid));
    }

    function voucher(bytes32 id, uint128 cumulativeAmount) internal pure returns (bytes32 structHash) {
        // Hashed in scratch memory past the free pointer: a batch hashes one voucher per claim and
        // `abi.encode` would grow memory on every one of them.
        bytes32 typehash = VOUCHER_TYPEHASH;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typehash)
            mstore(add(m, 0x20), id)
            mstore(add(m, 0x40), cumulativeAmount)
            structHash := keccak256(m, 0x60)
        }
    }

    function payeeAuthorization(
        bytes32 typehash,
        bytes32 id,
        uint128 cumulativeAmount,
        uint256 nonce,
        uint256 deadline
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(typehash, id, cumulativeAmount, nonce, deadline));
    }

    /// @notice The EIP-3009 nonce that binds a payer's authorization to one channel's parameters.
    function openNonce(address from, address payee, address token, bytes32 salt, address authorizedSigner)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(from, payee, token, salt, authorizedSigner));
    }

    /// @notice The EIP-3009 nonce that binds a payer's authorization to one top-up of one channel.
    function topUpNonce(bytes32 id, uint128 additionalDeposit, address from, bytes32 topUpSalt)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(id, additionalDeposit, from, topUpSalt));
    }
}
