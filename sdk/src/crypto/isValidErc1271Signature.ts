import {
  type Address,
  BaseError,
  type Client,
  encodeFunctionData,
  type Hex,
  HttpRequestError,
  isHex,
  SocketClosedError,
  TimeoutError,
  WebSocketRequestError,
} from "viem";
import { call } from "viem/actions";
import { RpcError } from "../errors/RpcError.js";

const erc1271Abi = [
  {
    type: "function",
    name: "isValidSignature",
    stateMutability: "view",
    inputs: [
      { name: "hash", type: "bytes32" },
      { name: "signature", type: "bytes" },
    ],
    outputs: [{ name: "magicValue", type: "bytes4" }],
  },
] as const;

// OpenZeppelin's SignatureChecker, which the escrow uses, accepts only a first return word equal to
// the selector left-aligned in 32 bytes; the raw comparison below is that same test.
const MAGIC_WORD = `0x1626ba7e${"0".repeat(56)}`;

export type IsValidErc1271SignatureParameters = {
  client: Client;
  signer: Address;
  hash: Hex;
  signature: Hex;
};

/** Whether a viem error means the node could not be reached (the answer is unknown), not that it said no. */
export function isTransportFailure(error: unknown): boolean {
  return (
    error instanceof BaseError &&
    error.walk(
      (cause) =>
        cause instanceof HttpRequestError ||
        cause instanceof TimeoutError ||
        cause instanceof WebSocketRequestError ||
        cause instanceof SocketClosedError,
    ) !== null
  );
}

/**
 * Asks `signer` (a contract wallet) through ERC-1271 whether it accepts `signature` over `hash`, as the
 * escrow does. A revert, empty answer (an EOA or no code) or any other word is a plain `false`; only a
 * node that cannot be reached throws (RpcError), since then the answer is unknown, not negative.
 */
export async function isValidErc1271Signature({
  client,
  signer,
  hash,
  signature,
}: IsValidErc1271SignatureParameters): Promise<boolean> {
  if (!isHex(signature, { strict: true })) return false;
  const data = encodeFunctionData({ abi: erc1271Abi, functionName: "isValidSignature", args: [hash, signature] });
  try {
    const { data: result } = await call(client, { to: signer, data });
    return result !== undefined && result.slice(0, 66).toLowerCase() === MAGIC_WORD;
  } catch (error) {
    if (isTransportFailure(error)) throw new RpcError("Could not ask the signer's contract wallet", { cause: error });
    return false;
  }
}
