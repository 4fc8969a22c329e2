import { type Address, type Client, erc20Abi, type Hex, isAddressEqual, parseEventLogs } from "viem";
import { getLogs, getTransactionReceipt, readContract } from "viem/actions";
import { eip3009Abi, eip3009Events } from "../../authorization/eip3009Abi.js";
import { onChain } from "../chain.js";
import type { PaymentRecord } from "../store/SessionStore.js";

export type ReadAuthorizationOutcomeParameters = {
  client: Client;
  /** The recorded EIP-3009 payment: its token, payer, nonce, payee and amount. */
  payment: PaymentRecord;
  /** Where the search for the authorization's transaction starts. */
  fromBlock: bigint;
};

/** An authorization's fate on-chain: unused, or used with the payment `settled` or `failed` (and the transaction, when found). */
export type AuthorizationOutcome = { used: false } | { used: true; status: "settled" | "failed"; txHash: Hex | null };

const [authorizationUsed, authorizationCanceled] = eip3009Events;

/**
 * Reads whether a recorded authorization is used and, if so, whether it paid this payment: its
 * `AuthorizationUsed` transaction must also carry the token's `Transfer` of the amount from the payer
 * to the payee. A nonce the payer spent on another authorization (to anyone else) or cancelled is
 * `failed`: the nonce is gone and nothing reached the seller. Used with no log within range:
 * `settled` with no transaction (as recovery always assumed).
 */
export async function readAuthorizationOutcome({ client, payment, fromBlock }: ReadAuthorizationOutcomeParameters): Promise<AuthorizationOutcome> {
  const { token, payer, nonce } = payment;
  const used = await onChain("read the authorization's state", () => readContract(client, { address: token, abi: eip3009Abi, functionName: "authorizationState", args: [payer, nonce] }));
  if (!used) return { used: false };
  const args = { authorizer: payer, nonce };
  const [transfer] = await onChain("find the authorization's transaction", () => getLogs(client, { address: token, event: authorizationUsed, args, fromBlock }));
  if (transfer) {
    const receipt = await onChain("read the authorization's transaction", () => getTransactionReceipt(client, { hash: transfer.transactionHash }));
    return { used: true, status: paysPayment(receipt.logs, payment) ? "settled" : "failed", txHash: transfer.transactionHash };
  }
  const canceled = await onChain("find the authorization's cancellation", () => getLogs(client, { address: token, event: authorizationCanceled, args, fromBlock }));
  return { used: true, status: canceled.length > 0 ? "failed" : "settled", txHash: null };
}

/** Whether `logs` hold the token's Transfer of the payment's amount from its payer to its payee. */
function paysPayment(logs: Parameters<typeof parseEventLogs>[0]["logs"], { token, payer, payee, amount }: PaymentRecord): boolean {
  const transfers = parseEventLogs({ abi: erc20Abi, eventName: "Transfer", logs: logs.filter((log) => log.address !== undefined && isAddressEqual(log.address as Address, token)) });
  return transfers.some(({ args }) => isAddressEqual(args.from, payer) && isAddressEqual(args.to, payee) && args.value === amount);
}
