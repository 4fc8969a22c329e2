import type { Address, Hex } from "viem";
import type { ChargePermit2Payload } from "../../protocol/permit2.js";
import type { CurrencyCaps } from "../createPaymentCaps.js";
import type { TransferAuthorization } from "./signTransferAuthorization.js";

/** A request header carrying a credential. */
export type CredentialHeader = { name: string; value: string };

/** The credential types a one-time offer can be paid with (the MPP `evm` charge draft's; x402 `exact` is `authorization`). */
export type OneTimeCredentialType = "permit2" | "authorization" | "transaction" | "hash";

/** Per credential type, the request header that carries what the client signed or sent. */
export type OneTimeCredentials = {
  /** A Permit2 witness transfer signed by `from`; the seller submits it. */
  permit2?(signed: { from: Address; payload: ChargePermit2Payload }): CredentialHeader;
  /** An EIP-3009 `TransferWithAuthorization` signed by the payer; the seller submits it. */
  authorization?(authorization: TransferAuthorization): CredentialHeader;
  /** A signed, unsent EIP-1559 ERC-20 `transfer` from `from`; the seller broadcasts it. */
  transaction?(signed: { from: Address; signature: Hex }): CredentialHeader;
  /** The hash of an ERC-20 `transfer` from `from` the client sent and saw mined. */
  hash?(sent: { from: Address; hash: Hex }): CredentialHeader;
};

/**
 * A per-request offer this client can pay with one transfer: an MPP `evm` `charge` challenge or an x402
 * `exact` requirement, parsed, checked against the caps, ready to pay with one of its credential types.
 */
export type OneTimeOffer = {
  method: "charge" | "x402";
  x402Version?: 1 | 2;
  chainId: number;
  currency: Address;
  amount: bigint;
  recipient: Address;
  caps: CurrencyCaps;
  /** The credential types the seller accepts that this client builds, the seller's preferred first. */
  credentialTypes: OneTimeCredentialType[];
  /** Unix seconds the seller lets the authorization live until (x402: now + maxTimeoutSeconds; charge: `expires`); the client caps it. */
  validUntil: number | undefined;
  /** The challenge-bound nonce (charge); undefined for a fresh random one (x402). */
  nonce: Hex | undefined;
  /** The token's EIP-712 name and version as the seller states them (x402 `extra`): checked against the chain, never signed as given. */
  statedDomain: { name: string; version: string } | undefined;
  /** Where the seller says Permit2 is (`permit2Address`), and the challenge's `externalId` its witness binds; charge only. */
  permit2?: { address: Address; externalId: string };
  /** The request header of each credential type in `credentialTypes`. */
  credential: OneTimeCredentials;
  /** The settlement transaction the answer's receipt claims, if it claims one for this payer on this chain. */
  readReceipt(response: Response, payer: Address): Hex | undefined;
};
