import type { Hex, LocalAccount, TypedDataDefinition } from "viem";
import { getPayeeAuthorizationTypedData, type PayeeAuthorizationFields } from "./getPayeeAuthorizationTypedData.js";

export type SignSettleAuthorizationParameters = PayeeAuthorizationFields & {
  /** The channel's payee. */
  account: LocalAccount;
};

/** 65-byte `r || s || v` signature. */
export type SignSettleAuthorizationReturnType = Hex;

/** Signs a `SettleAuthorization`: any relayer may then call `settleWithAuthorization` for the payee. */
export async function signSettleAuthorization({
  account,
  ...fields
}: SignSettleAuthorizationParameters): Promise<SignSettleAuthorizationReturnType> {
  return account.signTypedData(getPayeeAuthorizationTypedData({ kind: "settle", ...fields }) as TypedDataDefinition);
}
