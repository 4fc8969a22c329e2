import { type Address, encodeAbiParameters, type Hex, keccak256 } from "viem";
import { assertUint128 } from "../encoding/assertUint128.js";

export type ComputeTopUpNonceParameters = {
  channelId: Hex;
  additionalDeposit: bigint;
  from: Address;
  /** Fresh random bytes32 per top-up, so that equal top-ups get distinct nonces. */
  topUpSalt: Hex;
};

/**
 * The EIP-3009 nonce `topUpWithAuthorization` requires (EscrowHashes.topUpNonce):
 * keccak256(abi.encode(channelId, additionalDeposit, from, topUpSalt)).
 */
export function computeTopUpNonce({ channelId, additionalDeposit, from, topUpSalt }: ComputeTopUpNonceParameters): Hex {
  assertUint128(additionalDeposit);
  return keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "uint128" }, { type: "address" }, { type: "bytes32" }],
      [channelId, additionalDeposit, from, topUpSalt],
    ),
  );
}
