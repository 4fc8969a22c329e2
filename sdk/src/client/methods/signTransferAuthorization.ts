import type { Address, Hex } from "viem";
import { transferWithAuthorizationTypes } from "../../authorization/eip3009Abi.js";
import type { SignReceiveWithAuthorizationParameters } from "../../authorization/signReceiveWithAuthorization.js";

export type TransferAuthorization = { from: Address; to: Address; value: bigint; validAfter: bigint; validBefore: bigint; nonce: Hex; signature: Hex };

/** The same fields as a `ReceiveWithAuthorization`; `tokenDomain` is the token's own (read from the chain), never one a seller names. */
export type SignTransferAuthorizationParameters = SignReceiveWithAuthorizationParameters;

/** Signs an EIP-3009 `TransferWithAuthorization` that lets anyone move `value` from the account to `to`. */
export async function signTransferAuthorization({ account, tokenDomain, ...message }: SignTransferAuthorizationParameters): Promise<TransferAuthorization> {
  const authorization = { from: account.address, ...message };
  const signature = await account.signTypedData({ domain: tokenDomain, types: transferWithAuthorizationTypes, primaryType: "TransferWithAuthorization", message: authorization });
  return { ...authorization, signature };
}
