// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {VM_ADDRESS, Vm} from "./Vm.sol";

/// @notice Hashes and signatures of the escrow, computed in the test from the draft's formulas (not from
/// the contract's own view functions), so that the tests check the contract against the spec.
library VoucherSigner {
    Vm private constant vm = Vm(VM_ADDRESS);

    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    bytes32 internal constant EIP712_DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant VOUCHER_TYPEHASH = keccak256("Voucher(bytes32 channelId,uint128 cumulativeAmount)");

    /// @notice `channelId` as the draft's "Channel State" section defines it.
    function channelId(
        address escrow,
        address payer,
        address payee,
        address token,
        bytes32 salt,
        address authorizedSigner
    ) internal view returns (bytes32) {
        return keccak256(abi.encode(payer, payee, token, salt, authorizedSigner, escrow, block.chainid));
    }

    /// @notice The draft's "Domain Separator": name "EVM Payment Channel", version "1".
    function domainSeparator(address escrow) internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                EIP712_DOMAIN_TYPEHASH,
                keccak256(bytes("EVM Payment Channel")),
                keccak256(bytes("1")),
                block.chainid,
                escrow
            )
        );
    }

    function voucherDigest(address escrow, bytes32 id, uint128 cumulativeAmount) internal view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(VOUCHER_TYPEHASH, id, cumulativeAmount));
        return keccak256(abi.encodePacked(hex"1901", domainSeparator(escrow), structHash));
    }

    /// @notice A 65-byte `r || s || v` voucher signature by `privateKey` (low-s, v in {27, 28}).
    function sign(uint256 privateKey, address escrow, bytes32 id, uint128 cumulativeAmount)
        internal
        view
        returns (bytes memory)
    {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(privateKey, voucherDigest(escrow, id, cumulativeAmount));
        return abi.encodePacked(r, s, v);
    }

    /// @notice The malleable twin `(r, n - s, v ^ 1)` of a 65-byte signature: it recovers to the same
    /// address through the bare `ecrecover` precompile, but has a high `s`.
    function highSTwin(bytes memory signature) internal pure returns (bytes memory) {
        (bytes32 r, bytes32 s, uint8 v) = split(signature);
        return abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
    }

    function split(bytes memory signature) internal pure returns (bytes32 r, bytes32 s, uint8 v) {
        require(signature.length == 65, "split: not 65 bytes");
        assembly ("memory-safe") {
            r := mload(add(signature, 0x20))
            s := mload(add(signature, 0x40))
            v := byte(0, mload(add(signature, 0x60)))
        }
    }

    /// @notice Plain `ecrecover` with no malleability check, to show a twin is a genuine signature.
    function rawRecover(bytes32 digest, bytes memory signature) internal pure returns (address) {
        (bytes32 r, bytes32 s, uint8 v) = split(signature);
        return ecrecover(digest, v, r, s);
    }
}
