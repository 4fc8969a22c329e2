import type { Address, Hex } from "viem";
import { tollgateEscrowAbi } from "../generated/tollgateEscrowAbi.js";
import { sendContractTransaction } from "./sendContractTransaction.js";
import type { TransactionOptions, TransactionResult } from "./TransactionOptions.js";

export type CloseChannelWithAuthorizationParameters = TransactionOptions & {
  escrow: Address;
  channelId: Hex;
  cumulativeAmount: bigint;
  /** The nonce and deadline the payee signed (signCloseAuthorization). */
  nonce: bigint;
  deadline: bigint;
  payeeSignature: Hex;
  /** May be omitted on the forfeit path (`cumulativeAmount` at or below what is settled). */
  voucherSignature?: Hex | undefined;
};

export type CloseChannelWithAuthorizationReturnType = TransactionResult;

/** Closes a channel on the payee's signed authorization, paid for by the client's account as relayer. */
export async function closeChannelWithAuthorization({
  escrow,
  channelId,
  cumulativeAmount,
  nonce,
  deadline,
  payeeSignature,
  voucherSignature = "0x",
  ...options
}: CloseChannelWithAuthorizationParameters): Promise<CloseChannelWithAuthorizationReturnType> {
  const { hash, receipt } = await sendContractTransaction({
    ...options,
    address: escrow,
    abi: tollgateEscrowAbi,
    functionName: "closeWithAuthorization",
    args: [channelId, cumulativeAmount, nonce, deadline, payeeSignature, voucherSignature],
  });
  return { hash, receipt };
}
