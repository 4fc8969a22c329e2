import type { Address, Hex } from "viem";
import { PERMIT2_ADDRESS } from "../../../authorization/permit2Abi.js";
import { verifyPermit2Transfer } from "../../../authorization/verifyPermit2Transfer.js";
import { decodeChallengeRequest } from "../../../protocol/challenge.js";
import { chargeChallengeHash, parseChargeRequest } from "../../../protocol/charge.js";
import { type ChargePermit2Payload, parsePkhSource } from "../../../protocol/permit2.js";
import { settlePermit2Transfer } from "../settlePermit2Transfer.js";
import type { VerifiedCharge, VerifyChargeParameters } from "./ChargeVerifier.js";

/**
 * "Permit2 Verification": a single-transfer permit signed by the `source` payer over this chain's
 * Permit2 for the seller's account as spender, its witness binding the challenge (and its
 * `externalId`), paying the currency to the recipient, exactly the amount, before its deadline, with
 * an unused nonce and a balance and Permit2 allowance that cover it. Its replay token is the Permit2
 * nonce (32-byte hex); the seller submits `permitWitnessTransferFrom` in settlement and pays its gas.
 */
export async function verifyPermit2Credential({ context, payload, challenge, source, amount }: VerifyChargeParameters<ChargePermit2Payload>): Promise<VerifiedCharge> {
  // The challenge was issued by this gate for this route (checked before), so its request is the gate's own.
  const request = parseChargeRequest(decodeChallengeRequest(challenge.request));
  const permit2: Address = request.methodDetails.permit2Address ?? PERMIT2_ADDRESS;
  const owner = parsePkhSource(source, context.chainId);
  await verifyPermit2Transfer({
    client: context.chain.publicClient,
    chainId: context.chainId,
    permit2,
    payload,
    owner,
    spender: context.chain.walletClient.account.address,
    witness: { challengeHash: chargeChallengeHash(challenge), externalId: request.externalId ?? "" },
    currency: context.currency,
    recipient: context.recipient,
    amount,
    now: BigInt(Math.floor(context.now() / 1000)),
  });
  return {
    credential: "permit2",
    claim: { payer: owner, amount, nonce: permit2NonceHex(payload.permit.nonce) },
    settle: () => settlePermit2Transfer({ context, permit2, owner, payload }),
  };
}

/** A Permit2 nonce as the store's replay token: 32-byte hex. */
export function permit2NonceHex(nonce: bigint): Hex {
  return `0x${nonce.toString(16).padStart(64, "0")}`;
}
