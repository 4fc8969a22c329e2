import type { Address, Hex, LocalAccount } from "viem";
import type { TokenDomain } from "../../authorization/TokenDomain.js";

/** EIP-712 types of EIP-3009 `TransferWithAuthorization`. */
export const transferWithAuthorizationTypes = {
  TransferWithAuthorization: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
    { name: "nonce", type: "bytes32" },
  ],
} as const;

export type TransferAuthorization = { from: Address; to: Address; value: bigint; validAfter: bigint; validBefore: bigint; nonce: Hex; signature: Hex };

export type SignTransferAuthorizationParameters = {
  account: LocalAccount;
  /** The token's own domain (read from the chain), never one a seller names. */
  tokenDomain: TokenDomain;
  to: Address;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
};

/** Signs an EIP-3009 `TransferWithAuthorization` that lets anyone move `value` from the account to `to`. */
export async function signTransferAuthorization({ account, tokenDomain, ...message }: SignTransferAuthorizationParameters): Promise<TransferAuthorization> {
  const authorization = { from: account.address, ...message };
  const signature = await account.signTypedData({ domain: tokenDomain, types: transferWithAuthorizationTypes, primaryType: "TransferWithAuthorization", message: authorization });
  return { ...authorization, signature };
}
