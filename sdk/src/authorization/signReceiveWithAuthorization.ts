import type { Address, Hex, LocalAccount } from "viem";
import { authorizationFields } from "./eip3009Abi.js";
import type { ReceiveAuthorization } from "./ReceiveAuthorization.js";
import type { TokenDomain } from "./TokenDomain.js";

/** EIP-712 types of EIP-3009 `ReceiveWithAuthorization`. */
export const receiveWithAuthorizationTypes = {
  ReceiveWithAuthorization: authorizationFields,
} as const;

export type SignReceiveWithAuthorizationParameters = {
  /** The token holder; becomes `from`. */
  account: LocalAccount;
  /** See getTokenDomain. */
  tokenDomain: TokenDomain;
  to: Address;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
};

export type SignReceiveWithAuthorizationReturnType = ReceiveAuthorization;

/** Signs an EIP-3009 `ReceiveWithAuthorization` letting `to` pull `value` from the account. */
export async function signReceiveWithAuthorization({
  account,
  tokenDomain,
  ...message
}: SignReceiveWithAuthorizationParameters): Promise<SignReceiveWithAuthorizationReturnType> {
  const authorization = { from: account.address, ...message };
  const signature = await account.signTypedData({
    domain: tokenDomain,
    types: receiveWithAuthorizationTypes,
    primaryType: "ReceiveWithAuthorization",
    message: authorization,
  });
  return { ...authorization, signature };
}
