import type { Account, Chain, Client, Hex, TransactionReceipt, Transport } from "viem";

/** What every escrow transaction helper takes besides the call's own arguments. */
export type TransactionOptions = {
  /** Signs and sends; must carry an account (the caller the contract sees) and a chain. */
  client: Client<Transport, Chain | undefined, Account>;
  /** Simulation, reads and receipts go here when given (e.g. a public RPC beside a browser wallet); defaults to `client`. */
  publicClient?: Client | undefined;
  /** Milliseconds to wait for a receipt before giving up with TransactionOutcomeUnknownError. Defaults to 60 000. */
  timeout?: number | undefined;
  /** Blocks that must include the transaction, counting its own; more guards against reorgs. Defaults to 1. */
  confirmations?: number | undefined;
};

/** A mined, successful transaction. */
export type TransactionResult = {
  hash: Hex;
  receipt: TransactionReceipt;
};
