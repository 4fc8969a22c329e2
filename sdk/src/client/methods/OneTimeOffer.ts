import type { Address, Hex } from "viem";
import type { CurrencyCaps } from "../createPaymentCaps.js";
import type { TransferAuthorization } from "./signTransferAuthorization.js";

/**
 * A per-request offer this client can pay with one EIP-3009 `TransferWithAuthorization`: an MPP `evm`
 * `charge` challenge or an x402 `exact` requirement, parsed, checked against the caps, ready to sign.
 */
export type OneTimeOffer = {
  method: "charge" | "x402";
  x402Version?: 1 | 2;
  chainId: number;
  currency: Address;
  amount: bigint;
  recipient: Address;
  caps: CurrencyCaps;
  /** Unix seconds the seller lets the authorization live until (x402: now + maxTimeoutSeconds; charge: `expires`); the client caps it. */
  validUntil: number | undefined;
  /** The challenge-bound nonce (charge); undefined for a fresh random one (x402). */
  nonce: Hex | undefined;
  /** The token's EIP-712 name and version as the seller states them (x402 `extra`): checked against the chain, never signed as given. */
  statedDomain: { name: string; version: string } | undefined;
  /** The request header that carries the signed authorization. */
  credential(authorization: TransferAuthorization): { name: string; value: string };
  /** The settlement transaction the answer's receipt claims, if it claims one for this payer on this chain. */
  readReceipt(response: Response, payer: Address): Hex | undefined;
};
