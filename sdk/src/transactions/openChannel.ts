import { type Address, type Hex, zeroAddress } from "viem";
import { tollgateEscrowAbi } from "../generated/tollgateEscrowAbi.js";
import { sendWithAllowance } from "./sendWithAllowance.js";
import type { TransactionOptions, TransactionResult } from "./TransactionOptions.js";

export type OpenChannelParameters = TransactionOptions & {
  escrow: Address;
  payee: Address;
  token: Address;
  /** Base units escrowed. */
  deposit: bigint;
  /** Random bytes32 that makes the channel id unique. */
  salt: Hex;
  /** Key that signs vouchers for the payer; defaults to the zero address (the payer signs). */
  authorizedSigner?: Address | undefined;
};

export type OpenChannelReturnType = TransactionResult & {
  channelId: Hex;
  /** The `approve` sent first because the allowance was short, or null. */
  approval: TransactionResult | null;
};

/**
 * Opens a channel funded by the client's account (the payer), approving exactly `deposit` first when the
 * escrow's allowance is short, back to back with the open so that both land in one block (see
 * sendWithAllowance). If the open reverts anyway, the approval stays in place.
 */
export async function openChannel({
  escrow,
  payee,
  token,
  deposit,
  salt,
  authorizedSigner = zeroAddress,
  ...options
}: OpenChannelParameters): Promise<OpenChannelReturnType> {
  const { hash, receipt, result, approval } = await sendWithAllowance({
    ...options,
    token,
    amount: deposit,
    address: escrow,
    abi: tollgateEscrowAbi,
    functionName: "open",
    args: [payee, token, deposit, salt, authorizedSigner],
  });
  return { hash, receipt, channelId: result, approval };
}
