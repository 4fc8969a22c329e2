import { type Address, type Chain, erc20Abi } from "viem";
import { getChainId, getCode, readContract } from "viem/actions";
import { ConfigurationError } from "../errors/ConfigurationError.js";
import { assertGracePeriod, type GateChain, isContractRefusal, onChain } from "./chain.js";

export type CheckGateChainParameters = {
  chain: GateChain;
  /** The chain the seller configured. */
  expected: Chain;
  currency: Address;
  /** The `decimals` option, if given. */
  decimals: number | undefined;
};

/**
 * The start-up checks against the chain (`gate.ready()`): the RPC serves the configured chain, the escrow
 * is a Tollgate escrow with a safe grace period, the currency is an ERC-20 whose decimals match the
 * option. Resolves with the currency's decimals. A refusal is a ConfigurationError naming the option,
 * the value and the RPC; an unreachable RPC is an RpcError (worth retrying).
 */
export async function checkGateChain({ chain, expected, currency, decimals }: CheckGateChainParameters): Promise<number> {
  const { publicClient, escrow } = chain;
  const rpc = describeRpc(publicClient.transport);
  const chainId = await onChain("read the chain id", () => getChainId(publicClient));
  if (chainId !== expected.id) {
    throw new ConfigurationError("chain", `The RPC ${rpc} serves chain id ${chainId}, but \`chain\` is ${expected.name} (chain id ${expected.id})`);
  }
  const hasCode = async (address: Address) => ((await onChain("read contract code", () => getCode(publicClient, { address }))) ?? "0x") !== "0x";
  if (!(await hasCode(escrow))) {
    throw new ConfigurationError("escrow", `\`escrow\` ${escrow} has no code on chain id ${chainId} (RPC ${rpc}): deploy the escrow there, or fix the address`);
  }
  await assertGracePeriod(chain);
  if (!(await hasCode(currency))) {
    throw new ConfigurationError("currency", `\`currency\` ${currency} has no code on chain id ${chainId} (RPC ${rpc}): it must be the token's contract address`);
  }
  const actual = await onChain("read the currency's decimals", () =>
    readContract(publicClient, { address: currency, abi: erc20Abi, functionName: "decimals" }).catch((error: unknown) => {
      if (!isContractRefusal(error)) throw error;
      throw new ConfigurationError("currency", `\`currency\` ${currency} is not an ERC-20: it does not answer decimals()`, { cause: error });
    }),
  );
  if (decimals !== undefined && decimals !== actual) {
    throw new ConfigurationError("decimals", `\`decimals\` is ${decimals}, but the currency ${currency} has ${actual} decimals`);
  }
  return actual;
}

/** The RPC's URL without its path or query, which often carry an API key. */
function describeRpc(transport: Record<string, unknown>): string {
  if (typeof transport.url !== "string") return "(custom transport)";
  try {
    const url = new URL(transport.url);
    return url.pathname === "/" && url.search === "" ? url.origin : `${url.origin}/…`;
  } catch {
    return "(unparsable URL)";
  }
}
