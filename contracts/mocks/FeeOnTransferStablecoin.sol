// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MockStablecoin} from "./MockStablecoin.sol";

/// @notice A MockStablecoin (EIP-3009 included) that burns 1% of every transfer between two holders, so
/// the relayed open and top-up paths meet a receiver-gets-less token too.
contract FeeOnTransferStablecoin is MockStablecoin {
    constructor() MockStablecoin("Fee USD", "FUSD") {}

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) return super._update(from, to, value);
        uint256 fee = value / 100;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}
