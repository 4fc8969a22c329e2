import type { Client, Hex } from "viem";
import type { TransferAuthorization } from "../../protocol/x402.js";
import { transferWithAuthorization } from "../../transactions/transferWithAuthorization.js";
import type { GateContext } from "../core/GateMethod.js";

export type SettleTransferAuthorizationParameters = {
  context: GateContext;
  authorization: TransferAuthorization;
  signature: Hex;
};

/** Submits an EIP-3009 `transferWithAuthorization` from the seller's account and resolves with its mined transaction. */
export async function settleTransferAuthorization({ context, authorization, signature }: SettleTransferAuthorizationParameters): Promise<Hex> {
  const { chain } = context;
  const sent = await sendFromSeller(chain.walletClient, () =>
    transferWithAuthorization({ client: chain.walletClient, publicClient: chain.publicClient, timeout: chain.timeout, token: context.currency, authorization, signature }),
  );
  return sent.hash;
}

// One seller account sends one transaction at a time: concurrent sends would pick the same account nonce.
const queues = new WeakMap<Client, Promise<unknown>>();

/** Runs `send` after every earlier send from the same wallet client has finished. */
export function sendFromSeller<T>(client: Client, send: () => Promise<T>): Promise<T> {
  const run = (queues.get(client) ?? Promise.resolve()).then(send, send);
  queues.set(client, run.catch(() => undefined));
  return run;
}
