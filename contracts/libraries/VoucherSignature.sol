// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @title VoucherSignature
/// @notice Signature check for vouchers and payee authorizations: canonical ECDSA first, ERC-1271 after.
library VoucherSignature {
    /// @dev secp256k1 order / 2. A larger `s` is the malleable twin of a valid signature.
    uint256 internal constant MAX_S = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    /// @notice Whether `signature` is `signer`'s over `digest`: a 65-byte `r || s || v` ECDSA signature with
    /// low `s` and `v` of 27 or 28 recovering to `signer`, or else one that `signer`, a contract wallet,
    /// accepts through ERC-1271. Trying ECDSA first spares an EOA signer the EXTCODESIZE probe.
    function isValid(address signer, bytes32 digest, bytes calldata signature) internal view returns (bool) {
        return recover(digest, signature) == signer
            || (signer.code.length != 0 && SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature));
    }

    /// @notice The ECDSA signer of `digest`, or `address(0)` for a signature that is not 65 bytes, has a
    /// high `s`, a `v` other than 27 or 28, or does not recover.
    function recover(bytes32 digest, bytes calldata signature) internal view returns (address signer) {
        if (signature.length != 65) return address(0);
        assembly ("memory-safe") {
            let s := calldataload(add(signature.offset, 0x20))
            if iszero(gt(s, MAX_S)) {
                // The precompile's input is built past the free memory pointer, which is left unmoved.
                let m := mload(0x40)
                mstore(m, digest)
                mstore(add(m, 0x20), byte(0, calldataload(add(signature.offset, 0x40))))
                calldatacopy(add(m, 0x40), signature.offset, 0x40)
                // ecrecover returns no data for an invalid v, r or s.
                if staticcall(gas(), 0x01, m, 0x80, 0x00, 0x20) {
                    if eq(returndatasize(), 0x20) { signer := mload(0x00) }
                }
            }
        }
    }
}
