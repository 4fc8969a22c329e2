import type { Address, Hex } from "viem";
import type { ReceiveAuthorization } from "../authorization/ReceiveAuthorization.js";
import { tollgateEscrowAbi } from "../generated/tollgateEscrowAbi.js";
import { sendContractTransaction } from "./sendContractTransaction.js";
import type { TransactionOptions, TransactionResult } from "./TransactionOptions.js";

export type TopUpChannelWithAuthorizationParameters = TransactionOptions & {
  escrow: Address;
  channelId: Hex;
  /** The salt the authorization's nonce was derived from (signTopUpAuthorization). */
  topUpSalt: Hex;
  /** The funder's signed EIP-3009 authorization; its `value` is the amount added. */
  authorization: ReceiveAuthorization;
};

export type TopUpChannelWithAuthorizationReturnType = TransactionResult;

/** Adds `authorization.value` to a channel, paid for by the client's account as relayer. */
export async function topUpChannelWithAuthorization({
  escrow,
  channelId,
  topUpSalt,
  authorization: { from, value, validAfter, validBefore, nonce, signature },
  ...options
}: TopUpChannelWithAuthorizationParameters): Promise<TopUpChannelWithAuthorizationReturnType> {
  const { hash, receipt } = await sendContractTransaction({
    ...options,
    address: escrow,
    abi: tollgateEscrowAbi,
    functionName: "topUpWithAuthorization",
    args: [channelId, value, from, topUpSalt, validAfter, validBefore, nonce, signature],
  });
  return { hash, receipt };
}
