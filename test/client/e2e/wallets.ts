// Wallets for the client's wallet tests, as EIP-1193 providers over the real local node: its unlocked
// test accounts (JSON-RPC accounts, as a browser wallet presents them), and a contract wallet
// (MockERC1271Wallet) presented as its own address the way smart-wallet apps do. Each counts the requests
// that would prompt the user: eth_signTypedData_v4 and eth_sendTransaction.
import hre from "hardhat";
import { type Address, createWalletClient, custom, encodeFunctionData, type EIP1193RequestFn, getAddress, type Hex, http, type WalletClient } from "viem";
import type { LocalChain } from "../../../scripts/localChain.js";

export type Prompts = { eth_signTypedData_v4: number; eth_sendTransaction: number };

export type CountingWallet = {
  address: Address;
  /** The wallet as a dapp sees it: a viem wallet client over the provider, with a JSON-RPC account. */
  client: WalletClient;
  request: EIP1193RequestFn;
  prompts: Prompts;
};

type Request = { method: string; params?: unknown };

function countingProvider(address: Address, chain: LocalChain, forward: (request: Request) => Promise<unknown>): CountingWallet {
  const prompts: Prompts = { eth_signTypedData_v4: 0, eth_sendTransaction: 0 };
  const request = (async (args: Request) => {
    if (args.method in prompts) prompts[args.method as keyof Prompts]++;
    if (args.method === "eth_accounts" || args.method === "eth_requestAccounts") return [address];
    return forward(args);
  }) as EIP1193RequestFn;
  const client = createWalletClient({ account: address, chain: chain.chain, transport: custom({ request }) });
  return { address, client, request, prompts };
}

/** Test account `index` unlocked in the node, reached over JSON-RPC as a browser wallet would be. */
export function jsonRpcWallet(chain: LocalChain, index: number): CountingWallet {
  const node = http(chain.rpcUrl)({ chain: chain.chain, retryCount: 0 });
  return countingProvider(chain.account(index).address, chain, (args) => node.request(args as never));
}

/**
 * A MockERC1271Wallet owned by unlocked test account `ownerIndex`, presented as its own address: typed
 * data is signed by the owner (the wallet's isValidSignature accepts that), and each transaction is sent
 * by the owner through the wallet's `execute`, so the escrow and the token see the wallet as the caller.
 */
export async function contractWallet(chain: LocalChain, ownerIndex: number): Promise<CountingWallet> {
  const owner = chain.account(ownerIndex).address;
  const artifact = await hre.artifacts.readArtifact("MockERC1271Wallet");
  const deployer = createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl), account: chain.account(0) });
  const deployment = await deployer.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode as Hex, args: [owner] });
  const wallet = getAddress((await chain.publicClient.waitForTransactionReceipt({ hash: deployment })).contractAddress!);
  const node = http(chain.rpcUrl)({ chain: chain.chain, retryCount: 0 });
  return countingProvider(wallet, chain, async (args) => {
    const params = (args.params ?? []) as unknown[];
    if (args.method === "eth_signTypedData_v4") return node.request({ method: "eth_signTypedData_v4", params: [owner, params[1]] } as never);
    if (args.method === "eth_sendTransaction") {
      const { to, data } = params[0] as { to: Address; data: Hex };
      const call = encodeFunctionData({ abi: artifact.abi, functionName: "execute", args: [to, data] });
      return node.request({ method: "eth_sendTransaction", params: [{ from: owner, to: wallet, data: call }] } as never);
    }
    return node.request(args as never);
  });
}
