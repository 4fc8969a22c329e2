import {
  type Address,
  BaseError,
  type Client,
  ContractFunctionRevertedError,
  ContractFunctionZeroDataError,
  erc20Abi,
  getAddress,
} from "viem";
import { getChainId, getEip712Domain, readContract } from "viem/actions";
import type { TokenDomain } from "./TokenDomain.js";

export type GetTokenDomainParameters = {
  client: Client;
  token: Address;
};

export type GetTokenDomainReturnType = TokenDomain;

const versionAbi = [
  { type: "function", name: "version", stateMutability: "view", inputs: [], outputs: [{ type: "string" }] },
] as const;

/** USDC's EIP-712 version, assumed for tokens that publish neither eip712Domain() nor version(). */
const FALLBACK_VERSION = "2";

/** True when the call failed because the contract lacks the function (empty revert or empty return). */
export function isMissingFunction(error: unknown): boolean {
  return (
    error instanceof BaseError &&
    (error.name === "Eip712DomainNotFoundError" ||
      error.walk((cause) => cause instanceof ContractFunctionZeroDataError || cause instanceof ContractFunctionRevertedError) !==
        null)
  );
}

/**
 * Reads a token's EIP-712 domain: from EIP-5267 `eip712Domain()` when the token has it (OpenZeppelin
 * tokens, MockStablecoin: version "1"), else from `name()` and `version()` (USDC: version "2"), with
 * version "2" when even `version()` is missing. Network failures propagate; they are not guessed around.
 */
export async function getTokenDomain({ client, token }: GetTokenDomainParameters): Promise<GetTokenDomainReturnType> {
  try {
    const { domain } = await getEip712Domain(client, { address: token });
    return { name: domain.name, version: domain.version, chainId: Number(domain.chainId), verifyingContract: domain.verifyingContract };
  } catch (error) {
    if (!isMissingFunction(error)) throw error;
  }
  const [name, version, chainId] = await Promise.all([
    readContract(client, { address: token, abi: erc20Abi, functionName: "name" }),
    readContract(client, { address: token, abi: versionAbi, functionName: "version" }).catch((error: unknown) => {
      if (isMissingFunction(error)) return FALLBACK_VERSION;
      throw error;
    }),
    getChainId(client),
  ]);
  return { name, version, chainId, verifyingContract: getAddress(token) };
}
