// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TollgateEscrow} from "../../contracts/TollgateEscrow.sol";
import {MockStablecoin} from "../../contracts/mocks/MockStablecoin.sol";

import {RelayedTopUpHandler} from "./invariant/RelayedTopUpHandler.sol";
import {TestBase} from "./utils/TestBase.sol";

/// @notice The forced-close guarantee against a payee that uses the relayed profile: the campaign mixes all of
/// {EscrowHandler}'s actions (among them the payer's forced close: requestClose, warp, withdraw) with the
/// payee topping the channel up through `topUpWithAuthorization` from its own balance. The payer must still recover deposit - settled once the
/// grace period has elapsed.
/// Regression guard: against the escrow before c177493 (where any `topUpWithAuthorization` reset
/// `closeRequestedAt`) this campaign fails within its first runs with "payer's pending close cancelled by a
/// payee top-up"; it passes with that fix (the top-up lands without cancelling) and would also pass with a fix
/// that rejects third-party top-ups.
/// forge-config: default.invariant.runs = 32
/// forge-config: default.invariant.depth = 40
/// forge-config: default.invariant.fail-on-revert = true
contract TollgateEscrowRelayedTopUpInvariantTest is TestBase {
    TollgateEscrow internal escrow;
    MockStablecoin internal token;
    RelayedTopUpHandler internal handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        token = new MockStablecoin("Mock USD", "mUSD");
        escrow = new TollgateEscrow();
        handler = new RelayedTopUpHandler(escrow, token);
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice A payer who requested a close always recovers exactly deposit - settled after the grace
    /// period, whatever the payee does in between.
    function invariant_payeeCannotBlockForcedClose() public view {
        assertEq(handler.closesCancelledByThirdParty(), 0, "payer's pending close cancelled by a payee top-up");
        assertEq(handler.withdrawRefundFailures(), 0, "payer could not withdraw after the grace period");
    }

    function afterInvariant() external view {
        assertGt(handler.totalCalls(), 0, "handler calls in this run");
    }
}
