// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Returns `false` instead of reverting from `transfer` and `transferFrom` once `fail` is set,
/// moving nothing: an escrow that ignores the return value would record money it never received.
contract FalseReturningToken is ERC20 {
    bool public fail;

    constructor() ERC20("False Token", "FALSE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setFail(bool fail_) external {
        fail = fail_;
    }

    function transfer(address to, uint256 value) public override returns (bool) {
        return fail ? false : super.transfer(to, value);
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        return fail ? false : super.transferFrom(from, to, value);
    }
}
