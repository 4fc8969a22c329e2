// Shared set-up for the SDK tests: a fresh escrow and token on the in-process chain, and funded
// local-key accounts whose wallet clients sign transactions themselves, as an SDK user's would.
import type { NetworkHelpers } from "@nomicfoundation/hardhat-network-helpers/types";
import type { HardhatViemHelpers } from "@nomicfoundation/hardhat-viem/types";
import { type Chain, createWalletClient, custom, type Hex, keccak256, type LocalAccount, toHex, type Transport, type WalletClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";

export const USDC = 1_000_000n;

/** Deterministic pseudo-random bytes: reruns see the same "random" values, so failures reproduce. */
export function pseudoRandomHex(label: string, index: number, byteLength = 32): Hex {
  let hex = "";
  for (let block = 0; hex.length < byteLength * 2; block++) hex += keccak256(toHex(`${label}/${index}/${block}`)).slice(2);
  return `0x${hex.slice(0, byteLength * 2)}`;
}

export function testAccount(label: string): LocalAccount {
  return privateKeyToAccount(pseudoRandomHex(`account/${label}`, 0));
}

export async function deployTollgate(viem: HardhatViemHelpers) {
  const publicClient = await viem.getPublicClient();
  const escrow = await viem.deployContract("TollgateEscrow");
  const token = await viem.deployContract("MockStablecoin", ["USD Coin", "USDC"]);
  return { publicClient, escrow, token, chainId: await publicClient.getChainId() };
}

export type FundedAccount = { account: LocalAccount; client: WalletClient<Transport, Chain, LocalAccount> };

/** A local-key account with ether for gas, and a wallet client that signs its transactions locally. */
export async function fundedAccount({
  label,
  provider,
  chain,
  networkHelpers,
}: {
  label: string;
  provider: Parameters<typeof custom>[0];
  chain: Chain;
  networkHelpers: NetworkHelpers;
}): Promise<FundedAccount> {
  const account = testAccount(label);
  await networkHelpers.setBalance(account.address, 10n ** 20n);
  return { account, client: createWalletClient({ account, chain, transport: custom(provider, { retryCount: 0 }), pollingInterval: 50 }) };
}
