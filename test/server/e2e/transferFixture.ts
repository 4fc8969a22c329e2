// Fixtures of the `transaction` and `hash` charge credentials: ERC-20 transfers the payer signs (sent
// or not) exactly as a test bends them, a second token, and credentials built by hand.
import hre from "hardhat";
import { type Address, createWalletClient, encodeFunctionData, erc20Abi, type Hex, http, keccak256, type LocalAccount } from "viem";
import type { LocalChain } from "../../../scripts/localChain.js";
import type { PaymentChallenge } from "../../../sdk/src/protocol/challenge.js";
import { formatCredential } from "../../../sdk/src/protocol/credential.js";

export type TransferFields = {
  token?: Address;
  to: Address;
  amount: bigint;
  /** Calldata instead of `transfer(to, amount)`. */
  data?: Hex;
  chainId?: number;
  maxFeePerGas?: bigint;
  gas?: bigint;
  /** An account nonce other than the next. */
  nonce?: number;
};

/** An EIP-1559 ERC-20 transfer signed by `account` and not sent, with its hash. */
export async function signTransfer(chain: LocalChain, account: LocalAccount, fields: TransferFields): Promise<{ serialized: Hex; hash: Hex }> {
  const data = fields.data ?? encodeFunctionData({ abi: erc20Abi, functionName: "transfer", args: [fields.to, fields.amount] });
  const prepared = await chain.publicClient.prepareTransactionRequest({ account, chain: chain.chain, type: "eip1559", to: fields.token ?? chain.token, data, gas: fields.gas ?? 100_000n });
  const serialized = await account.signTransaction({
    ...prepared,
    chainId: fields.chainId ?? chain.chain.id,
    ...(fields.nonce === undefined ? {} : { nonce: fields.nonce }),
    ...(fields.maxFeePerGas === undefined ? {} : { maxFeePerGas: fields.maxFeePerGas, maxPriorityFeePerGas: 0n }),
  });
  return { serialized, hash: keccak256(serialized) };
}

/** Signs and broadcasts a transfer; resolves with its hash once mined (reverted or not). */
export async function sendTransfer(chain: LocalChain, account: LocalAccount, fields: TransferFields): Promise<Hex> {
  const { serialized, hash } = await signTransfer(chain, account, fields);
  // A node may answer a transaction that reverts with an error, and mine it all the same.
  await chain.publicClient.sendRawTransaction({ serializedTransaction: serialized }).catch(() => undefined);
  await chain.publicClient.waitForTransactionReceipt({ hash });
  return hash;
}

/** A second ERC-20 (the same mock stablecoin, another address), `amount` of it minted to `holder`. */
export async function deployOtherToken(chain: LocalChain, holder: Address, amount: bigint): Promise<Address> {
  const artifact = await hre.artifacts.readArtifact("MockStablecoin");
  const deployer = createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl), account: chain.account(0) });
  const deployed = await chain.publicClient.waitForTransactionReceipt({ hash: await deployer.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode as Hex, args: ["Other Coin", "OTH"] }) });
  const token = deployed.contractAddress!;
  await chain.publicClient.waitForTransactionReceipt({ hash: await deployer.writeContract({ address: token, abi: artifact.abi, functionName: "mint", args: [holder, amount] }) });
  return token;
}

/** The `Authorization` header of a charge credential answering `challenge` with `payload` as given. */
export function chargeCredential(challenge: PaymentChallenge, payload: Record<string, unknown>): string {
  return formatCredential({ challenge, payload: payload as Record<string, string> });
}
