// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TollgateEscrow} from "../../../contracts/TollgateEscrow.sol";
import {MockStablecoin} from "../../../contracts/mocks/MockStablecoin.sol";

import {EscrowHandler} from "./EscrowHandler.sol";

/// @notice {EscrowHandler} plus one adversarial action of the relayed profile: while the payer's forced
/// close is pending, the channel's payee tops the channel up from its own balance through
/// `topUpWithAuthorization` (an EIP-3009 `ReceiveWithAuthorization` it signs itself).
///
/// The model follows the draft's forced-close guarantee ("Forced close + grace period ensures payer" can
/// recover its funds; `from` of a relayed top-up is described as the payer): such a third-party top-up may
/// revert, or land without touching the payer's pending close. Either way the payer still counts on its
/// close, so the inherited `withdraw` / `completeForcedClose` actions expect the refund once the grace period
/// has elapsed, and count it in `withdrawRefundFailures` if the escrow refuses.
contract RelayedTopUpHandler is EscrowHandler {
    address internal constant SINK = address(0x5111C);

    uint256 public thirdPartyTopUps;
    uint256 public thirdPartyTopUpsRejected;
    uint256 public closesCancelledByThirdParty;

    constructor(TollgateEscrow escrow_, MockStablecoin token_) EscrowHandler(escrow_, token_) {}

    /// @notice The payee of a channel with a pending close (one is requested first if none is pending) tops
    /// it up by 1 to 1e6 base units with its own EIP-3009 authorization.
    function payeeTopUpWithAuthorization(uint256 channelSeed, uint256 amountSeed) external {
        _beginAction();
        ChannelInfo memory c = _pendingClose(channelSeed);
        Model storage m = _model[c.id];
        if (m.finalized || m.closeRequestedAt == 0) return;

        uint256 amount = bound(amountSeed, 1, 1e6);
        token.mint(c.payee, amount);
        bool ok = _payeeTopUp(c, amount);
        if (!ok) {
            // Rejecting third-party top-ups is an acceptable fix. Keep the payee's balance = what it was paid.
            vm.prank(c.payee);
            token.transfer(SINK, amount);
            ++thirdPartyTopUpsRejected;
            return;
        }

        m.deposit += uint128(amount);
        totalDeposited += amount;
        if (escrow.getChannel(c.id).closeRequestedAt != m.closeRequestedAt) {
            ++closesCancelledByThirdParty;
            _fail("a payee-funded topUpWithAuthorization cancelled the payer's pending forced close");
        }
        // The model keeps the payer's close pending: the payer never cancelled it.
    }

    /// @dev The payee signs an EIP-3009 ReceiveWithAuthorization of `amount` to the escrow, with the nonce
    /// the escrow derives for this top-up, and submits `topUpWithAuthorization` itself.
    function _payeeTopUp(ChannelInfo memory c, uint256 amount) internal returns (bool ok) {
        bytes32 topUpSalt = keccak256(abi.encode("grief", thirdPartyTopUps++));
        bytes32 nonce = keccak256(abi.encode(c.id, uint128(amount), c.payee, topUpSalt));
        uint256 validBefore = ghostTime + 1 hours;
        bytes memory signature = _signReceive(c.payee, amount, validBefore, nonce);
        vm.prank(c.payee);
        (ok,) = _call(
            abi.encodeCall(
                escrow.topUpWithAuthorization,
                (c.id, uint128(amount), c.payee, topUpSalt, 0, validBefore, nonce, signature)
            )
        );
    }

    function _signReceive(address from, uint256 amount, uint256 validBefore, bytes32 nonce)
        internal
        view
        returns (bytes memory)
    {
        bytes32 structHash = keccak256(
            abi.encode(token.RECEIVE_WITH_AUTHORIZATION_TYPEHASH(), from, address(escrow), amount, 0, validBefore, nonce)
        );
        bytes32 digest = keccak256(abi.encodePacked(hex"1901", token.DOMAIN_SEPARATOR(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_payeeKey(from), digest);
        return abi.encodePacked(r, s, v);
    }

    function _pendingClose(uint256 seed) internal returns (ChannelInfo memory) {
        uint256 n = _channels.length;
        for (uint256 k; k < n; ++k) {
            ChannelInfo storage c = _channels[(seed % n + k) % n];
            Model storage m = _model[c.id];
            if (!m.finalized && m.closeRequestedAt != 0) return c;
        }
        ChannelInfo memory picked = _pick(seed);
        _requestClose(picked);
        return picked;
    }

    function _payeeKey(address payee) internal view returns (uint256) {
        for (uint256 i; i < ACTORS; ++i) {
            if (payees[i] == payee) return payeeKeys[i];
        }
        revert("unknown payee");
    }
}
