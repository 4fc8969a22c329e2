// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {VM_ADDRESS, Vm} from "./Vm.sol";

/// @notice Cheatcode handle, `bound` and a few assertions that revert with a readable message. Shared by
/// the test contracts and the invariant handler (which has no `test*` / `invariant*` function, so the
/// runner does not mistake it for a suite).
abstract contract CheatBase {
    Vm internal constant vm = Vm(VM_ADDRESS);

    /// @dev secp256k1 group order; private keys live in [1, SECP256K1_N - 1].
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    /// @notice Maps `x` uniformly-ish into [min, max] while keeping small inputs (and the fuzzer's boundary
    /// values) at or next to the bounds, the way forge-std's `bound` does.
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        uint256 size = max - min + 1;
        if (x <= 3 && size > x) return min + x;
        if (x >= type(uint256).max - 3 && size > type(uint256).max - x) return max - (type(uint256).max - x);
        if (x > max) {
            uint256 rem = (x - max) % size;
            return rem == 0 ? max : min + rem - 1;
        }
        uint256 r = (min - x) % size;
        return r == 0 ? min : max - r + 1;
    }

    function boundPrivateKey(uint256 x) internal pure returns (uint256) {
        return bound(x, 1, SECP256K1_N - 1);
    }

    function toU128(uint256 x) internal pure returns (uint128) {
        require(x <= type(uint128).max, "toU128: overflow");
        return uint128(x);
    }
}

/// @notice Assertions for the test contracts: each reverts with `message: left != right` on failure.
abstract contract TestBase is CheatBase {
    using Strings for uint256;
    using Strings for address;

    function fail(string memory message) internal pure {
        revert(string.concat("assertion failed: ", message));
    }

    function assertTrue(bool condition, string memory message) internal pure {
        if (!condition) fail(message);
    }

    function assertFalse(bool condition, string memory message) internal pure {
        if (condition) fail(message);
    }

    function assertEq(uint256 left, uint256 right, string memory message) internal pure {
        if (left != right) fail(string.concat(message, ": ", left.toString(), " != ", right.toString()));
    }

    function assertEq(address left, address right, string memory message) internal pure {
        if (left != right) {
            fail(string.concat(message, ": ", left.toHexString(), " != ", right.toHexString()));
        }
    }

    function assertEq(bytes32 left, bytes32 right, string memory message) internal pure {
        if (left != right) {
            fail(string.concat(message, ": ", uint256(left).toHexString(32), " != ", uint256(right).toHexString(32)));
        }
    }

    function assertEq(bool left, bool right, string memory message) internal pure {
        if (left != right) fail(string.concat(message, left ? ": true != false" : ": false != true"));
    }

    function assertEq(bytes memory left, bytes memory right, string memory message) internal pure {
        if (keccak256(left) != keccak256(right)) fail(string.concat(message, ": bytes differ"));
    }

    function assertLe(uint256 left, uint256 right, string memory message) internal pure {
        if (left > right) fail(string.concat(message, ": ", left.toString(), " > ", right.toString()));
    }

    function assertGt(uint256 left, uint256 right, string memory message) internal pure {
        if (left <= right) fail(string.concat(message, ": ", left.toString(), " <= ", right.toString()));
    }
}
