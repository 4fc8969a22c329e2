// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Once `skim` is set, `transferFrom` returns `true` but moves nothing: a token that reports
/// success without paying. The escrow must notice that its balance did not grow.
contract NoopTransferToken is ERC20 {
    bool public skim;

    constructor() ERC20("Noop Token", "NOOP") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setSkim(bool skim_) external {
        skim = skim_;
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        return skim ? true : super.transferFrom(from, to, value);
    }
}
