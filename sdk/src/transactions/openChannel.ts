import { type Address, type Hex, zeroAddress } from "viem";
import { tollgateEscrowAbi } from "../generated/tollgateEscrowAbi.js";
import { ensureAllowance } from "./ensureAllowance.js";
import { sendContractTransaction } from "./sendContractTransaction.js";
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
 * Opens a channel funded by the client's account (the payer), first approving exactly `deposit` when
 * the escrow's allowance is short (see ensureAllowance). The open cannot be simulated before the
 * approval exists, so if it then reverts (say ChannelAlreadyExists) the approval stays in place.
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
  const approval = await ensureAllowance({ ...options, token, spender: escrow, amount: deposit });
  const { hash, receipt, result } = await sendContractTransaction({
    ...options,
    address: escrow,
    abi: tollgateEscrowAbi,
    functionName: "open",
    args: [payee, token, deposit, salt, authorizedSigner],
  });
  return { hash, receipt, channelId: result, approval };
}
