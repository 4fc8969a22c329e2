// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {CheatBase} from "./CheatBase.sol";

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
