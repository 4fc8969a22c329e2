import type { Address, Hex } from "viem";

/** A signed EIP-3009 `ReceiveWithAuthorization`: every field the signature covers, plus the signature. */
export type ReceiveAuthorization = {
  from: Address;
  /** The escrow: `receiveWithAuthorization` only lets `to` itself pull the funds. */
  to: Address;
  value: bigint;
  /** Unix seconds; the token accepts the authorization only after this. */
  validAfter: bigint;
  /** Unix seconds; the token accepts the authorization only before this. */
  validBefore: bigint;
  nonce: Hex;
  /** 65-byte `r || s || v` signature. */
  signature: Hex;
};
