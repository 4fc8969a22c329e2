// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice The subset of the Foundry-compatible cheatcodes (served by EDR at `VM_ADDRESS`) that this suite
/// uses. forge-std cannot be installed here, so the interface is declared by hand; the signatures are the
/// standard ones, so this file can be swapped for forge-std's `Vm` without touching the tests.
interface Vm {
    // --------------------------------------------------------------- environment
    function warp(uint256 newTimestamp) external;
    function chainId(uint256 newChainId) external;

    // --------------------------------------------------------------- callers
    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;

    // --------------------------------------------------------------- keys and signatures
    function addr(uint256 privateKey) external pure returns (address keyAddr);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);

    // --------------------------------------------------------------- expectations and fuzzing
    function expectRevert() external;
    function expectRevert(bytes4 revertData) external;
    function expectRevert(bytes calldata revertData) external;
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData, address emitter)
        external;
    function assume(bool condition) external pure;

    // --------------------------------------------------------------- diagnostics
    function label(address account, string calldata newLabel) external;
}

/// @dev `address(uint160(uint256(keccak256("hevm cheat code"))))`.
address constant VM_ADDRESS = 0x7109709ECfa91a80626fF3989D68f67F5b1DD12D;
