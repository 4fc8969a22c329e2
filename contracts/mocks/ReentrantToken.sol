// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MockStablecoin} from "./MockStablecoin.sol";

/// @notice A MockStablecoin whose transfers call back into `target` with preset calldata, once per arm,
/// the way an ERC-777-style hook would. It records whether the reentrant call succeeded and its return
/// or revert data, so tests can assert what the escrow let through.
contract ReentrantToken is MockStablecoin {
    address public target;
    bytes public callData;
    bool public armed;
    bool public reentrySucceeded;
    bytes public reentryResult;

    constructor() MockStablecoin("Reentrant Token", "REENTER") {}

    function arm(address target_, bytes calldata callData_) external {
        target = target_;
        callData = callData_;
        armed = true;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (armed && from != address(0)) {
            armed = false;
            // solhint-disable-next-line avoid-low-level-calls
            (reentrySucceeded, reentryResult) = target.call(callData);
        }
    }
}
