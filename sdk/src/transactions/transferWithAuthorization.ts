import { type Address, type Hex, parseSignature } from "viem";
import { eip3009Abi } from "../authorization/eip3009Abi.js";
import type { TransferAuthorization } from "../protocol/x402.js";
import { sendContractTransaction } from "./sendContractTransaction.js";
import type { TransactionOptions, TransactionResult } from "./TransactionOptions.js";

export type TransferWithAuthorizationParameters = TransactionOptions & {
  token: Address;
  authorization: TransferAuthorization;
  /** The payer's 65-byte signature. */
  signature: Hex;
};

export type TransferWithAuthorizationReturnType = TransactionResult;

/**
 * Submits a payer's EIP-3009 authorization (`transferWithAuthorization(…, v, r, s)`) from the caller's
 * account, which pays the gas, and waits for it to be mined. A revert (in simulation or on-chain) is a
 * ContractRevertedError: nothing was transferred.
 */
export async function transferWithAuthorization({ token, authorization, signature, ...options }: TransferWithAuthorizationParameters): Promise<TransferWithAuthorizationReturnType> {
  const { r, s, v, yParity } = parseSignature(signature);
  const { from, to, value, validAfter, validBefore, nonce } = authorization;
  const { hash, receipt } = await sendContractTransaction({
    ...options,
    address: token,
    abi: eip3009Abi,
    functionName: "transferWithAuthorization",
    args: [from, to, value, validAfter, validBefore, nonce, Number(v ?? BigInt(yParity + 27)), r, s],
  });
  return { hash, receipt };
}
