import type { Address, Hex, LocalAccount } from "viem";
import { computeTopUpNonce } from "./computeTopUpNonce.js";
import type { ReceiveAuthorization } from "./ReceiveAuthorization.js";
import { signReceiveWithAuthorization } from "./signReceiveWithAuthorization.js";
import type { TokenDomain } from "./TokenDomain.js";

export type SignTopUpAuthorizationParameters = {
  /** Whoever funds the top-up (usually the payer; any refund still goes to the channel's payer). */
  account: LocalAccount;
  /** The channel's token's domain (getTokenDomain). */
  tokenDomain: TokenDomain;
  escrow: Address;
  channelId: Hex;
  additionalDeposit: bigint;
  /** Fresh random bytes32 per top-up. */
  topUpSalt: Hex;
  /** Defaults to 0: valid at once. */
  validAfter?: bigint | undefined;
  validBefore: bigint;
};

export type SignTopUpAuthorizationReturnType = ReceiveAuthorization;

/**
 * Signs an EIP-3009 authorization for `topUpWithAuthorization`, with the nonce derived from the
 * channel id, amount, funder and `topUpSalt` as the escrow requires.
 */
export async function signTopUpAuthorization({
  account,
  tokenDomain,
  escrow,
  channelId,
  additionalDeposit,
  topUpSalt,
  validAfter = 0n,
  validBefore,
}: SignTopUpAuthorizationParameters): Promise<SignTopUpAuthorizationReturnType> {
  return signReceiveWithAuthorization({
    account,
    tokenDomain,
    to: escrow,
    value: additionalDeposit,
    validAfter,
    validBefore,
    nonce: computeTopUpNonce({ channelId, additionalDeposit, from: account.address, topUpSalt }),
  });
}
