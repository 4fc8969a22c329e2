import { type Address, encodeAbiParameters, type Hex, keccak256, zeroAddress } from "viem";

export type ComputeOpenNonceParameters = {
  /** The payer whose tokens the authorization moves. */
  from: Address;
  payee: Address;
  token: Address;
  salt: Hex;
  /** Defaults to the zero address: the payer signs vouchers. */
  authorizedSigner?: Address | undefined;
};

/**
 * The EIP-3009 nonce `openWithAuthorization` requires (EscrowHashes.openNonce):
 * keccak256(abi.encode(from, payee, token, salt, authorizedSigner)). It binds the payer's token
 * authorization to these channel parameters, so a relayer cannot open a different channel with it.
 */
export function computeOpenNonce({ from, payee, token, salt, authorizedSigner = zeroAddress }: ComputeOpenNonceParameters): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: "address" }, { type: "address" }, { type: "address" }, { type: "bytes32" }, { type: "address" }],
      [from, payee, token, salt, authorizedSigner],
    ),
  );
}
