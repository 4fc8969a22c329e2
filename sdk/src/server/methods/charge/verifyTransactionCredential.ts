import { decodeFunctionData, erc20Abi, isAddressEqual, keccak256, parseTransaction, recoverTransactionAddress, type TransactionSerializedEIP1559 } from "viem";
import { estimateGas, getBalance, getBlock, getTransactionCount, readContract } from "viem/actions";
import { InvalidValueError } from "../../../errors/InvalidValueError.js";
import type { ChargeTransactionPayload } from "../../../protocol/charge.js";
import { PaymentProblemError } from "../../../protocol/problems.js";
import { onChain } from "../../chain.js";
import type { VerifiedCharge, VerifyChargeParameters } from "./ChargeVerifier.js";
import { settleSignedTransfer } from "./settleSignedTransfer.js";

const TRANSFER_SELECTOR = "0xa9059cbb";

/**
 * "Transaction Verification", steps 1–5, before anything is broadcast: a signed EIP-1559 transaction
 * on this chain calling `transfer(recipient, amount)` on the currency. The draft stops there; a hostile
 * buyer could still sign a transfer that can never be mined and hold the request until the receipt
 * times out, so this also refuses a used or out-of-turn account nonce, native value, a fee below the current base fee,
 * a gas limit below what the transfer needs, and a payer short of the tokens or of the gas money.
 * The replay token is the transaction's hash; settlement (steps 6–9) broadcasts it.
 */
export async function verifyTransactionCredential({ context, payload, amount }: VerifyChargeParameters<ChargeTransactionPayload>): Promise<VerifiedCharge> {
  const client = context.chain.publicClient;
  const serialized = payload.signature as TransactionSerializedEIP1559;
  // 1. Deserialize the RLP-encoded transaction.
  const { transaction, payer } = await deserialize(serialized);
  // 2. The chain.
  if (transaction.chainId !== context.chainId) refuse(`The transaction is for chain ${transaction.chainId}, the challenge for chain ${context.chainId}`, "wrong-chain");
  // 3. The token contract.
  if (transaction.to === undefined || transaction.to === null || !isAddressEqual(transaction.to, context.currency)) refuse("The transaction does not call the challenge's currency", "wrong-token");
  // 4. The `transfer(address,uint256)` selector.
  const data = transaction.data ?? "0x";
  if (!data.toLowerCase().startsWith(TRANSFER_SELECTOR)) refuse("The transaction does not call transfer(address,uint256)", "not-a-transfer");
  // 5. Recipient and amount, exactly the challenge's (and no bytes beyond the call's own).
  const { args } = decodeFunctionData({ abi: erc20Abi, data });
  const [to, value] = args as readonly [`0x${string}`, bigint];
  if (data.length !== 2 + 8 + 128) refuse("The transfer's calldata carries extra bytes", "not-a-transfer");
  if (!isAddressEqual(to, context.recipient)) refuse("The transfer pays another recipient", "wrong-recipient");
  if (value !== amount) refuse(`The transfer moves ${value}, the challenge asks ${amount}`, "wrong-amount");

  // Beyond the draft: a transaction that can be mined now, paying what it says.
  if ((transaction.value ?? 0n) !== 0n) refuse("The transaction sends native value", "not-a-transfer");
  const [block, used, queued, tokens, gasMoney, needed] = await onChain("check the transaction against the chain", () =>
    Promise.all([
      getBlock(client, { blockTag: "latest" }),
      getTransactionCount(client, { address: payer, blockTag: "latest" }),
      getTransactionCount(client, { address: payer, blockTag: "pending" }),
      readContract(client, { address: context.currency, abi: erc20Abi, functionName: "balanceOf", args: [payer] }),
      getBalance(client, { address: payer }),
      estimateGas(client, { account: payer, to: context.currency, data }).catch(() => undefined),
    ]),
  );
  if (transaction.nonce === undefined || transaction.nonce < used) refuse("The transaction's account nonce is already used", "nonce-used");
  // A nonce past the payer's next one waits in the mempool for the gap to fill: it would hold the request.
  if (transaction.nonce > queued) refuse(`The transaction's account nonce ${transaction.nonce} is past the payer's next, ${queued}`, "nonce-gap");
  if (tokens < amount) refuse(`The payer holds ${tokens}, less than ${amount}`, "insufficient-balance");
  const { gas = 0n, maxFeePerGas = 0n } = transaction;
  if (block.baseFeePerGas !== null && block.baseFeePerGas !== undefined && maxFeePerGas < block.baseFeePerGas) {
    refuse(`The transaction's maxFeePerGas ${maxFeePerGas} is below the current base fee ${block.baseFeePerGas}: it would not be mined`, "fee-too-low");
  }
  if (needed === undefined || gas < needed) refuse(`The transaction's gas limit ${gas} is below the ${needed ?? "?"} the transfer needs`, "gas-too-low");
  if (gas > block.gasLimit) refuse(`The transaction's gas limit ${gas} is above the block's ${block.gasLimit}`, "gas-too-high");
  if (gasMoney < gas * maxFeePerGas) refuse("The payer cannot pay the transaction's gas", "insufficient-gas-funds");

  const hash = keccak256(serialized);
  return {
    credential: "transaction",
    claim: { payer, amount, nonce: hash },
    settle: () => settleSignedTransfer({ context, serialized, hash, payer, amount }),
  };
}

async function deserialize(serialized: TransactionSerializedEIP1559) {
  try {
    const transaction = parseTransaction(serialized);
    if (transaction.type !== "eip1559" || transaction.r === undefined || transaction.s === undefined) throw new Error("not a signed EIP-1559 transaction");
    const payer = await recoverTransactionAddress({ serializedTransaction: serialized });
    return { transaction, payer };
  } catch (error) {
    throw new InvalidValueError("request", "Malformed charge: `signature` is not a signed EIP-1559 transaction", { cause: error });
  }
}

function refuse(detail: string, reason: string): never {
  throw new PaymentProblemError("verification-failed", { detail, extensions: { reason } });
}
