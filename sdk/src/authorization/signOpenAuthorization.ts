import type { Address, Hex, LocalAccount } from "viem";
import { computeOpenNonce } from "./computeOpenNonce.js";
import type { ReceiveAuthorization } from "./ReceiveAuthorization.js";
import { signReceiveWithAuthorization } from "./signReceiveWithAuthorization.js";
import type { TokenDomain } from "./TokenDomain.js";

export type SignOpenAuthorizationParameters = {
  /** The payer. */
  account: LocalAccount;
  /** The channel's token's domain (getTokenDomain); its `verifyingContract` is the channel's token. */
  tokenDomain: TokenDomain;
  escrow: Address;
  payee: Address;
  deposit: bigint;
  salt: Hex;
  authorizedSigner?: Address | undefined;
  /** Defaults to 0: valid at once. */
  validAfter?: bigint | undefined;
  validBefore: bigint;
};

export type SignOpenAuthorizationReturnType = ReceiveAuthorization;

/**
 * Signs the payer's EIP-3009 authorization for `openWithAuthorization` (feePayer: true), with the
 * nonce derived from the channel parameters as the escrow requires.
 */
export async function signOpenAuthorization({
  account,
  tokenDomain,
  escrow,
  payee,
  deposit,
  salt,
  authorizedSigner,
  validAfter = 0n,
  validBefore,
}: SignOpenAuthorizationParameters): Promise<SignOpenAuthorizationReturnType> {
  const token = tokenDomain.verifyingContract;
  return signReceiveWithAuthorization({
    account,
    tokenDomain,
    to: escrow,
    value: deposit,
    validAfter,
    validBefore,
    nonce: computeOpenNonce({ from: account.address, payee, token, salt, authorizedSigner }),
  });
}
