import { type Address, type Client, erc20Abi, type Hex, isAddressEqual, recoverTypedDataAddress } from "viem";
import { readContract } from "viem/actions";
import { RpcError } from "../errors/RpcError.js";
import { TollgateError } from "../errors/TollgateError.js";
import { PaymentProblemError } from "../protocol/problems.js";
import type { TransferAuthorization } from "../protocol/x402.js";
import { eip3009Abi, transferWithAuthorizationTypes } from "./eip3009Abi.js";
import type { TokenDomain } from "./TokenDomain.js";

export type VerifyTransferAuthorizationParameters = {
  /** Reads the payer's balance and the nonce's state. */
  client: Client;
  /** The token's EIP-712 domain as read from the chain: fixes the token and the chain the signature is for. */
  domain: TokenDomain;
  authorization: TransferAuthorization;
  signature: Hex;
  /** Where the payment must go. */
  recipient: Address;
  /** What it must transfer, in base units (exactly: both specs say the value matches the price). */
  amount: bigint;
  /** The nonce the authorization must carry (the charge's challenge binding); any unused one when undefined. */
  nonce?: Hex;
  /** Now, unix seconds. */
  now: bigint;
  /** Seconds the authorization must stay valid for settlement to land; defaults to 6. */
  margin?: bigint;
};

/** Why an authorization was refused: the `reason` extension of the problem. */
export type TransferAuthorizationFailure =
  | "invalid-signature"
  | "recipient-mismatch"
  | "amount-mismatch"
  | "nonce-mismatch"
  | "not-yet-valid"
  | "expired"
  | "insufficient-balance"
  | "nonce-used";

/**
 * Verifies an EIP-3009 `TransferWithAuthorization` before the seller submits it, in the charge draft's
 * order: the EIP-712 signature by `from` under the token's own domain (so another token or chain fails
 * here), `to`, `value`, the nonce binding, the validity window (with a margin for settlement), the payer's
 * balance, and the nonce unused on-chain. EOA signatures only. Throws a 402 `verification-failed`
 * problem whose `reason` names the failed check; an unreachable node is an RpcError.
 */
export async function verifyTransferAuthorization(parameters: VerifyTransferAuthorizationParameters): Promise<void> {
  const { client, domain, authorization, signature, recipient, amount, nonce, now, margin = 6n } = parameters;
  const signer = await recoverTypedDataAddress({ domain, types: transferWithAuthorizationTypes, primaryType: "TransferWithAuthorization", message: authorization, signature }).catch(() => undefined);
  if (signer === undefined || !isAddressEqual(signer, authorization.from)) fail("invalid-signature", "The authorization is not signed by `from` for this token and chain");
  if (!isAddressEqual(authorization.to, recipient)) fail("recipient-mismatch", "The authorization does not pay this server's recipient");
  if (authorization.value !== amount) fail("amount-mismatch", `The authorization transfers ${authorization.value}, the price is ${amount}`);
  if (nonce !== undefined && authorization.nonce.toLowerCase() !== nonce.toLowerCase()) fail("nonce-mismatch", "The authorization's nonce is not bound to the challenge");
  if (authorization.validAfter > now) fail("not-yet-valid", "The authorization is not valid yet");
  if (authorization.validBefore <= now + margin) fail("expired", "The authorization expires before it can be settled");
  const [balance, used] = await read(() =>
    Promise.all([
      readContract(client, { address: domain.verifyingContract, abi: erc20Abi, functionName: "balanceOf", args: [authorization.from] }),
      readContract(client, { address: domain.verifyingContract, abi: eip3009Abi, functionName: "authorizationState", args: [authorization.from, authorization.nonce] }),
    ]),
  );
  if (balance < authorization.value) fail("insufficient-balance", "The payer's balance does not cover the authorization");
  if (used) fail("nonce-used", "The authorization's nonce is already used on-chain");
}

function fail(reason: TransferAuthorizationFailure, detail: string): never {
  throw new PaymentProblemError("verification-failed", { detail, extensions: { reason } });
}

async function read<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof TollgateError) throw error;
    throw new RpcError("Could not read the payer's balance and nonce", { cause: error });
  }
}
