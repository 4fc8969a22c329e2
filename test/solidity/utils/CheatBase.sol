// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {VM_ADDRESS, Vm} from "./Vm.sol";

/// @notice Cheatcode handle, `bound` and key helpers, without assertions. Shared by
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
