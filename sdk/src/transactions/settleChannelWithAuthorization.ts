import type { Address, Hex } from "viem";
import { tollgateEscrowAbi } from "../generated/tollgateEscrowAbi.js";
import { sendContractTransaction } from "./sendContractTransaction.js";
import type { TransactionOptions, TransactionResult } from "./TransactionOptions.js";

export type SettleChannelWithAuthorizationParameters = TransactionOptions & {
  escrow: Address;
  channelId: Hex;
  cumulativeAmount: bigint;
  /** The nonce and deadline the payee signed (signSettleAuthorization). */
  nonce: bigint;
  deadline: bigint;
  payeeSignature: Hex;
  voucherSignature: Hex;
};

export type SettleChannelWithAuthorizationReturnType = TransactionResult;

/** Settles a voucher on the payee's signed authorization, paid for by the client's account as relayer. */
export async function settleChannelWithAuthorization({
  escrow,
  channelId,
  cumulativeAmount,
  nonce,
  deadline,
  payeeSignature,
  voucherSignature,
  ...options
}: SettleChannelWithAuthorizationParameters): Promise<SettleChannelWithAuthorizationReturnType> {
  const { hash, receipt } = await sendContractTransaction({
    ...options,
    address: escrow,
    abi: tollgateEscrowAbi,
    functionName: "settleWithAuthorization",
    args: [channelId, cumulativeAmount, nonce, deadline, payeeSignature, voucherSignature],
  });
  return { hash, receipt };
}
