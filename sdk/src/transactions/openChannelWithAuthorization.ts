import { type Address, type Hex, zeroAddress } from "viem";
import type { ReceiveAuthorization } from "../authorization/ReceiveAuthorization.js";
import { tollgateEscrowAbi } from "../generated/tollgateEscrowAbi.js";
import { sendContractTransaction } from "./sendContractTransaction.js";
import type { TransactionOptions, TransactionResult } from "./TransactionOptions.js";

export type OpenChannelWithAuthorizationParameters = TransactionOptions & {
  escrow: Address;
  payee: Address;
  token: Address;
  salt: Hex;
  authorizedSigner?: Address | undefined;
  /** The payer's signed EIP-3009 authorization (signOpenAuthorization); its `value` is the deposit and `from` the payer. */
  authorization: ReceiveAuthorization;
};

export type OpenChannelWithAuthorizationReturnType = TransactionResult & { channelId: Hex };

/** Opens a channel for `authorization.from`, paid for by the client's account as relayer (feePayer: true). */
export async function openChannelWithAuthorization({
  escrow,
  payee,
  token,
  salt,
  authorizedSigner = zeroAddress,
  authorization: { from, value, validAfter, validBefore, nonce, signature },
  ...options
}: OpenChannelWithAuthorizationParameters): Promise<OpenChannelWithAuthorizationReturnType> {
  const { hash, receipt, result } = await sendContractTransaction({
    ...options,
    address: escrow,
    abi: tollgateEscrowAbi,
    functionName: "openWithAuthorization",
    args: [payee, token, value, salt, authorizedSigner, from, validAfter, validBefore, nonce, signature],
  });
  return { hash, receipt, channelId: result };
}
