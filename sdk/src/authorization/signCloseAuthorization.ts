import type { Hex, LocalAccount, TypedDataDefinition } from "viem";
import { getPayeeAuthorizationTypedData, type PayeeAuthorizationFields } from "./getPayeeAuthorizationTypedData.js";

export type SignCloseAuthorizationParameters = PayeeAuthorizationFields & {
  /** The channel's payee. */
  account: LocalAccount;
};

/** 65-byte `r || s || v` signature. */
export type SignCloseAuthorizationReturnType = Hex;

/** Signs a `CloseAuthorization`: any relayer may then call `closeWithAuthorization` for the payee. */
export async function signCloseAuthorization({
  account,
  ...fields
}: SignCloseAuthorizationParameters): Promise<SignCloseAuthorizationReturnType> {
  return account.signTypedData(getPayeeAuthorizationTypedData({ kind: "close", ...fields }) as TypedDataDefinition);
}
