import { type Address, type Client, zeroAddress, zeroHash } from "viem";
import { readContract } from "viem/actions";
import { eip3009Abi } from "../../authorization/eip3009Abi.js";
import { getTokenDomain } from "../../authorization/getTokenDomain.js";
import type { TokenDomain } from "../../authorization/TokenDomain.js";
import { isContractRefusal, onChain } from "../chain.js";

export type SupportsTransferAuthorizationParameters = {
  client: Client;
  token: Address;
  /** Reads the token's EIP-712 domain; defaults to getTokenDomain (a gate shares its one read). */
  readDomain?: () => Promise<TokenDomain>;
};

/**
 * Whether `token` implements EIP-3009 as the per-request methods need it: an EIP-712 domain to verify
 * under, and `authorizationState(0, 0)` answering instead of reverting (a token without the function
 * reverts or returns nothing). A transport failure rejects with an RpcError: it says nothing about the token.
 */
export async function supportsTransferAuthorization({ client, token, readDomain = () => getTokenDomain({ client, token }) }: SupportsTransferAuthorizationParameters): Promise<boolean> {
  const answers = (call: Promise<unknown>) =>
    call.then(
      () => true,
      (error: unknown) => {
        if (isContractRefusal(error)) return false;
        throw error;
      },
    );
  return onChain("probe the currency for EIP-3009", async () =>
    (await answers(readContract(client, { address: token, abi: eip3009Abi, functionName: "authorizationState", args: [zeroAddress, zeroHash] }))) &&
    (await answers(readDomain())),
  );
}
