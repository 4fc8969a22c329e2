// Fixtures of the deferred-settlement tests and bench: Multicall3 on the local chain (deployed from
// viem's own creation bytecode, which viem does not export by a public subpath), and payers of a chosen
// balance.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { type Address, createWalletClient, erc20Abi, type Hex, http, type LocalAccount } from "viem";
import type { LocalChain } from "../../../scripts/localChain.js";

const require = createRequire(import.meta.url);
const { multicall3Bytecode } = require(join(dirname(require.resolve("viem/package.json")), "_cjs/constants/contracts.js")) as { multicall3Bytecode: Hex };

/** Deploys Multicall3 from test account 0 and resolves with its address. */
export async function deployMulticall3(chain: LocalChain): Promise<Address> {
  const deployer = createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl), account: chain.account(0) });
  const hash = await deployer.deployContract({ abi: [], bytecode: multicall3Bytecode });
  const { contractAddress } = await chain.publicClient.waitForTransactionReceipt({ hash });
  return contractAddress!;
}

/** Sets `account`'s token balance to exactly `balance` (minting, or moving the excess to test account 9). */
export async function fundExactly(chain: LocalChain, account: LocalAccount, balance: bigint): Promise<void> {
  const current = await chain.balanceOf(account.address);
  if (current < balance) return chain.mint(account.address, balance - current);
  if (current > balance) await transfer(chain, account, chain.account(9).address, current - balance);
}

/** Moves `amount` of the token from `account` to `to` and waits for it. */
export async function transfer(chain: LocalChain, account: LocalAccount, to: Address, amount: bigint): Promise<void> {
  const wallet = createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl), account });
  const hash = await wallet.writeContract({ address: chain.token, abi: erc20Abi, functionName: "transfer", args: [to, amount] });
  await chain.publicClient.waitForTransactionReceipt({ hash });
}
