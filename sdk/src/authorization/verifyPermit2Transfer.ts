import { type Address, type Client, erc20Abi, isAddressEqual, recoverTypedDataAddress } from "viem";
import { readContract } from "viem/actions";
import { RpcError } from "../errors/RpcError.js";
import { type ChargePermit2Payload, type PaymentWitness, permit2Domain, permit2TypedData } from "../protocol/permit2.js";
import { PaymentProblemError } from "../protocol/problems.js";
import { isPermit2NonceUsed, permit2Abi } from "./permit2Abi.js";

export type VerifyPermit2TransferParameters = {
  /** Reads Permit2's nonce bitmap and the token's balance and allowance. */
  client: Client;
  chainId: number;
  /** The Permit2 contract: its address is the signature's EIP-712 domain. */
  permit2: Address;
  payload: ChargePermit2Payload;
  /** The payer the credential's `source` names: the permit must be signed by it. */
  owner: Address;
  /** Who submits the transfer (the seller's account): Permit2 signs `msg.sender` in as `spender`. */
  spender: Address;
  /** The witness the challenge implies. */
  witness: PaymentWitness;
  /** The token, the recipient and the exact amount of the challenge. */
  currency: Address;
  recipient: Address;
  amount: bigint;
  /** Now, unix seconds. */
  now: bigint;
  /** Seconds the permit must stay valid for settlement to land; defaults to 6. */
  margin?: bigint;
};

/** Why a Permit2 credential was refused: the `reason` extension of the problem. */
export type Permit2TransferFailure =
  | "splits-unsupported"
  | "challenge-mismatch"
  | "invalid-signature"
  | "token-mismatch"
  | "recipient-mismatch"
  | "amount-mismatch"
  | "expired"
  | "nonce-used"
  | "insufficient-balance"
  | "insufficient-allowance";

/**
 * Verifies a single-transfer Permit2 credential before the seller submits it: one transfer (this gate
 * sets no splits), the witness binding the challenge, the EIP-712 signature by `owner` over Permit2's
 * domain for this chain and `spender`, the token, the recipient and the exact amount, the deadline
 * (with a margin for settlement), the nonce unused in Permit2's bitmap, then the owner's balance and
 * allowance to Permit2. EOA signatures only. Throws a 402 `verification-failed` problem whose `reason`
 * names the failed check; an unreachable node is an RpcError.
 */
export async function verifyPermit2Transfer(parameters: VerifyPermit2TransferParameters): Promise<void> {
  const { client, chainId, permit2, payload, owner, spender, witness, currency, recipient, amount, now, margin = 6n } = parameters;
  const { permitted, nonce, deadline } = payload.permit;
  if (permitted.length !== 1 || payload.transferDetails.length !== 1) fail("splits-unsupported", "This charge has no splits: the permit must carry exactly one transfer");
  const [permission] = permitted as [ChargePermit2Payload["permit"]["permitted"][0]];
  const [transfer] = payload.transferDetails as [ChargePermit2Payload["transferDetails"][0]];
  if (payload.witness.challengeHash.toLowerCase() !== witness.challengeHash.toLowerCase() || payload.witness.externalId !== witness.externalId) {
    fail("challenge-mismatch", "The permit's witness does not bind this challenge");
  }
  const typedData = permit2TypedData({ payload, spender, domain: permit2Domain({ chainId, permit2 }) });
  const signer = await recoverTypedDataAddress({ ...typedData, signature: payload.signature }).catch(() => undefined);
  if (signer === undefined || !isAddressEqual(signer, owner)) fail("invalid-signature", "The permit is not signed by `source` for this chain's Permit2 and this seller");
  if (!isAddressEqual(permission.token, currency)) fail("token-mismatch", "The permit is for another token");
  if (!isAddressEqual(transfer.to, recipient)) fail("recipient-mismatch", "The permit does not pay this server's recipient");
  if (transfer.requestedAmount !== amount || permission.amount !== amount) fail("amount-mismatch", `The permit transfers ${transfer.requestedAmount} of ${permission.amount} permitted, the price is ${amount}`);
  if (deadline <= now + margin) fail("expired", "The permit's deadline passes before it can be settled");
  const [word, balance, allowance] = await Promise.all([
    readContract(client, { address: permit2, abi: permit2Abi, functionName: "nonceBitmap", args: [owner, nonce >> 8n] }),
    readContract(client, { address: currency, abi: erc20Abi, functionName: "balanceOf", args: [owner] }),
    readContract(client, { address: currency, abi: erc20Abi, functionName: "allowance", args: [owner, permit2] }),
  ]).catch((error: unknown) => {
    throw new RpcError("Could not read the permit's nonce and the payer's balance and allowance", { cause: error });
  });
  if (isPermit2NonceUsed(word, nonce)) fail("nonce-used", "The permit's nonce is already used in Permit2");
  if (balance < amount) fail("insufficient-balance", "The payer's balance does not cover the permit");
  if (allowance < amount) fail("insufficient-allowance", "The payer's allowance to Permit2 does not cover the permit");
}

function fail(reason: Permit2TransferFailure, detail: string): never {
  throw new PaymentProblemError("verification-failed", { detail, extensions: { reason } });
}
