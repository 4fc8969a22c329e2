import { type Address, encodeFunctionData, type Hex, isAddressEqual, multicall3Abi, parseEventLogs, parseSignature } from "viem";
import { eip3009Abi, eip3009Events } from "../authorization/eip3009Abi.js";
import type { TransferAuthorization } from "../protocol/x402.js";
import { sendContractTransaction } from "./sendContractTransaction.js";
import type { TransactionOptions, TransactionResult } from "./TransactionOptions.js";

/** One payer's signed EIP-3009 authorization. */
export type SignedTransferAuthorization = { authorization: TransferAuthorization; signature: Hex };

export type AggregateTransferAuthorizationsParameters = TransactionOptions & {
  /** The Multicall3 contract (`aggregate3`). */
  multicall3: Address;
  token: Address;
  transfers: readonly SignedTransferAuthorization[];
};

export type AggregateTransferAuthorizationsReturnType = TransactionResult & {
  /** Per transfer, in order: whether this transaction used its authorization (its `AuthorizationUsed` log is in the receipt). */
  used: boolean[];
};

/**
 * Submits many `transferWithAuthorization` calls in one Multicall3 `aggregate3` transaction, each with
 * `allowFailure`: a call that reverts (the payer moved the funds, used or cancelled the nonce) does not
 * take the others down. Each call's outcome is read from the mined receipt, not the simulation, since
 * the chain can change in between.
 */
export async function aggregateTransferAuthorizations({ multicall3, token, transfers, ...options }: AggregateTransferAuthorizationsParameters): Promise<AggregateTransferAuthorizationsReturnType> {
  const calls = transfers.map(({ authorization, signature }) => {
    const { r, s, v, yParity } = parseSignature(signature);
    const { from, to, value, validAfter, validBefore, nonce } = authorization;
    const callData = encodeFunctionData({
      abi: eip3009Abi,
      functionName: "transferWithAuthorization",
      args: [from, to, value, validAfter, validBefore, nonce, Number(v ?? BigInt(yParity + 27)), r, s],
    });
    return { target: token, allowFailure: true, callData };
  });
  const { hash, receipt } = await sendContractTransaction({ ...options, address: multicall3, abi: multicall3Abi, functionName: "aggregate3", args: [calls] });
  const logs = parseEventLogs({ abi: eip3009Events, eventName: "AuthorizationUsed", logs: receipt.logs.filter((log) => isAddressEqual(log.address, token)) });
  const usedKeys = new Set(logs.map((log) => `${log.args.authorizer}:${log.args.nonce}`.toLowerCase()));
  const used = transfers.map(({ authorization }) => usedKeys.has(`${authorization.from}:${authorization.nonce}`.toLowerCase()));
  return { hash, receipt, used };
}
