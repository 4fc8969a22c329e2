// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice A minimal contract wallet: accepts signatures by its owner key through ERC-1271 (until the owner
/// turns that off, as a key rotation would) and executes calls the owner sends, so it can hold tokens and
/// be a channel's payer or payee.
contract MockERC1271Wallet is IERC1271 {
    // solhint-disable-next-line immutable-vars-naming
    address public immutable owner;
    bool public acceptsSignatures = true;

    error NotOwner(address caller);

    constructor(address owner_) {
        owner = owner_;
    }

    function setAcceptsSignatures(bool accepts) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        acceptsSignatures = accepts;
    }

    function execute(address target, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        // solhint-disable-next-line avoid-low-level-calls
        (bool success, bytes memory result) = target.call(data);
        if (!success) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
        return result;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError error,) = ECDSA.tryRecoverCalldata(hash, signature);
        bool valid = acceptsSignatures && error == ECDSA.RecoverError.NoError && recovered == owner;
        return valid ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}
