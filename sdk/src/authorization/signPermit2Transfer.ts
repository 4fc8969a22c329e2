import type { Address, LocalAccount } from "viem";
import { type ChargePermit2Payload, type PaymentWitness, type Permit2Domain, permit2TypedData } from "../protocol/permit2.js";

export type SignPermit2TransferParameters = {
  account: LocalAccount;
  /** Permit2's domain on the offer's chain, at the canonical address the client trusts. */
  domain: Permit2Domain;
  /** Who may submit the permit (Permit2 checks it against `msg.sender`). */
  spender: Address;
  token: Address;
  /** Permitted and requested: exactly this, to `to`. */
  amount: bigint;
  to: Address;
  nonce: bigint;
  /** Unix seconds. */
  deadline: bigint;
  witness: PaymentWitness;
};

/** Signs a single-transfer Permit2 `PermitWitnessTransferFrom` with the payment witness and returns the draft's payload. */
export async function signPermit2Transfer({ account, domain, spender, token, amount, to, nonce, deadline, witness }: SignPermit2TransferParameters): Promise<ChargePermit2Payload> {
  const unsigned: ChargePermit2Payload = {
    type: "permit2",
    permit: { permitted: [{ token, amount }], nonce, deadline },
    transferDetails: [{ to, requestedAmount: amount }],
    witness,
    signature: "0x",
  };
  const signature = await account.signTypedData(permit2TypedData({ payload: unsigned, spender, domain }));
  return { ...unsigned, signature };
}
