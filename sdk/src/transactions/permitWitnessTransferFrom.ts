import type { Address } from "viem";
import { permit2Abi } from "../authorization/permit2Abi.js";
import { type ChargePermit2Payload, hashPaymentWitness, PAYMENT_WITNESS_TYPE_STRING } from "../protocol/permit2.js";
import { sendContractTransaction } from "./sendContractTransaction.js";
import type { TransactionOptions, TransactionResult } from "./TransactionOptions.js";

export type PermitWitnessTransferFromParameters = TransactionOptions & {
  permit2: Address;
  /** The payer who signed the permit. */
  owner: Address;
  /** A verified single-transfer payload. */
  payload: ChargePermit2Payload;
};

export type PermitWitnessTransferFromReturnType = TransactionResult;

/**
 * Submits a payer's single-transfer Permit2 permit with its payment witness from the caller's account
 * (the permit's `spender`, which pays the gas) and waits for it to be mined. A revert (in simulation or
 * on-chain) is a ContractRevertedError: nothing was transferred.
 */
export async function permitWitnessTransferFrom({ permit2, owner, payload, ...options }: PermitWitnessTransferFromParameters): Promise<PermitWitnessTransferFromReturnType> {
  const [permitted] = payload.permit.permitted;
  const [transfer] = payload.transferDetails;
  const { hash, receipt } = await sendContractTransaction({
    ...options,
    address: permit2,
    abi: permit2Abi,
    functionName: "permitWitnessTransferFrom",
    args: [
      { permitted: permitted!, nonce: payload.permit.nonce, deadline: payload.permit.deadline },
      transfer!,
      owner,
      hashPaymentWitness(payload.witness),
      PAYMENT_WITNESS_TYPE_STRING,
      payload.signature,
    ],
  });
  return { hash, receipt };
}
