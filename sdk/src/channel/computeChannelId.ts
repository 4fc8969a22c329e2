import { type Address, encodeAbiParameters, type Hex, keccak256, zeroAddress } from "viem";
import { assertChainId } from "../encoding/assertChainId.js";

export type ComputeChannelIdParameters = {
  chainId: number;
  escrow: Address;
  payer: Address;
  payee: Address;
  token: Address;
  salt: Hex;
  /** Defaults to the zero address: the payer signs vouchers. */
  authorizedSigner?: Address | undefined;
};

/**
 * The channel id the escrow derives in `computeChannelId`:
 * keccak256(abi.encode(payer, payee, token, salt, authorizedSigner, escrow, chainId)).
 */
export function computeChannelId({
  chainId,
  escrow,
  payer,
  payee,
  token,
  salt,
  authorizedSigner = zeroAddress,
}: ComputeChannelIdParameters): Hex {
  assertChainId(chainId);
  return keccak256(
    encodeAbiParameters(
      [
        { type: "address" },
        { type: "address" },
        { type: "address" },
        { type: "bytes32" },
        { type: "address" },
        { type: "address" },
        { type: "uint256" },
      ],
      [payer, payee, token, salt, authorizedSigner, escrow, BigInt(chainId)],
    ),
  );
}
