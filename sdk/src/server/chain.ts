import {
  type Account,
  type Address,
  BaseError,
  type Chain,
  type Client,
  ContractFunctionRevertedError,
  ContractFunctionZeroDataError,
  type Hex,
  isAddressEqual,
  parseEventLogs,
  type TransactionReceipt,
  TransactionReceiptNotFoundError,
  type Transport,
} from "viem";
import { getBlockNumber, getCode, getTransactionReceipt, readContract } from "viem/actions";
import { getChannel } from "../channel/getChannel.js";
import type { Channel } from "../channel/Channel.js";
import { ConfigurationError } from "../errors/ConfigurationError.js";
import { ContractRevertedError } from "../errors/ContractRevertedError.js";
import { RpcError } from "../errors/RpcError.js";
import { TollgateError } from "../errors/TollgateError.js";
import { tollgateEscrowAbi } from "../generated/tollgateEscrowAbi.js";
import { PaymentProblemError, type ProblemName } from "../protocol/problems.js";

/** The shortest forced-close grace period under which a seller could still settle in time. */
export const MIN_CLOSE_GRACE_PERIOD = 600n;

/** What the gate needs to reach the chain. */
export type GateChain = {
  publicClient: Client;
  walletClient: Client<Transport, Chain | undefined, Account>;
  escrow: Address;
  /** Blocks that must include a client's open or top-up before its deposit is trusted. */
  confirmations: number;
  /** Milliseconds to wait for a receipt. */
  timeout: number;
};

/** A problem for a reverted escrow call, named after the revert where the draft maps it. */
export function revertProblem(error: ContractRevertedError): PaymentProblemError {
  const mapped: Record<string, ProblemName> = {
    AmountExceedsDeposit: "amount-exceeds-deposit",
    ChannelNotFound: "channel-not-found",
    ChannelFinalized: "channel-finalized",
    InvalidSignature: "invalid-signature",
    TransferAmountMismatch: "insufficient-balance",
    ERC20InsufficientBalance: "insufficient-balance",
  };
  const problem = (error.errorName && mapped[error.errorName]) || "transaction-reverted";
  return new PaymentProblemError(problem, {
    detail: error.errorName ? `The escrow call reverted with ${error.errorName}` : "The escrow call reverted",
    extensions: error.hash ? { txHash: error.hash } : {},
    cause: error,
  });
}

/** Runs a chain call, turning a revert into its problem and a transport failure into an RpcError. */
export async function onChain<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ContractRevertedError) throw revertProblem(error);
    // Problems, RPC failures and unknown transaction outcomes are already typed.
    if (error instanceof TollgateError) throw error;
    throw new RpcError(`Could not ${what}`, { cause: error });
  }
}

/** The channel on-chain, which must exist and not be finalized. */
export async function readLiveChannel(chain: GateChain, channelId: Hex): Promise<Channel> {
  const channel = await onChain("read the channel", () => getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId }));
  if (channel === null) throw new PaymentProblemError("channel-not-found", { extensions: { channelId } });
  if (channel.finalized) throw new PaymentProblemError("channel-finalized", { extensions: { channelId } });
  return channel;
}

/**
 * Milliseconds between receipt lookups while a client's funding transaction is awaited: not the gate's
 * `pollingInterval`, since a credential naming a hash no node knows costs a lookup each time (the client
 * sends its open's hash once the open is mined, so the first lookup finds it).
 */
const RECEIPT_POLL_INTERVAL = 1_000;

/**
 * Confirms that transaction `hash` opened or topped up `channelId` on this escrow (directly or through
 * a smart-wallet entry point: the escrow's own event is what counts), mined with the required
 * confirmations. The receipt is looked up for at most `timeout` milliseconds, a few lookups: a
 * transaction not mined by then (or a hash no node knows) is a 402 with Retry-After, so that an unpaid
 * request neither holds a connection nor costs more than a few RPC calls. A reverted transaction is a
 * final `transaction-reverted`.
 */
export async function confirmFunding(
  chain: GateChain,
  { hash, channelId, eventName, timeout }: { hash: Hex; channelId: Hex; eventName: "ChannelOpened" | "ChannelToppedUp"; timeout: number },
) {
  const deadline = performance.now() + timeout;
  let receipt = await minedReceipt(chain, hash);
  while (receipt === null && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(RECEIPT_POLL_INTERVAL, deadline - performance.now())));
    receipt = await minedReceipt(chain, hash);
  }
  if (receipt === null) {
    throw new PaymentProblemError("verification-failed", {
      detail: `Transaction ${hash} is not mined with ${chain.confirmations} confirmation(s) yet: send the same credential again later`,
      extensions: { channelId, txHash: hash },
      retryAfter: Math.max(1, Math.ceil(timeout / 1000)),
    });
  }
  if (receipt.status !== "success") {
    throw new PaymentProblemError("transaction-reverted", { detail: `Transaction ${hash} reverted`, extensions: { channelId, txHash: hash } });
  }
  const events = parseEventLogs({ abi: tollgateEscrowAbi, eventName, logs: receipt.logs }).filter(
    (log) => isAddressEqual(log.address, chain.escrow) && log.args.channelId === channelId,
  );
  if (events.length === 0) {
    throw new PaymentProblemError("verification-failed", {
      detail: `Transaction ${hash} did not ${eventName === "ChannelOpened" ? "open" : "top up"} channel ${channelId} on this escrow`,
      extensions: { channelId },
    });
  }
  return { receipt, events };
}

/** The receipt of `hash` once it has the required confirmations; null before (or for an unknown hash). */
async function minedReceipt(chain: GateChain, hash: Hex): Promise<TransactionReceipt | null> {
  const receipt = await onChain("fetch the transaction receipt", () =>
    getTransactionReceipt(chain.publicClient, { hash }).catch((error: unknown) => {
      if (error instanceof TransactionReceiptNotFoundError) return null;
      throw error;
    }),
  );
  if (receipt === null || chain.confirmations <= 1) return receipt;
  const head = await onChain("read the block number", () => getBlockNumber(chain.publicClient, { cacheTime: 0 }));
  return head - receipt.blockNumber + 1n >= BigInt(chain.confirmations) ? receipt : null;
}

/** Refuses an escrow whose grace period would not leave the seller time to settle a forced close. */
export async function assertGracePeriod(chain: GateChain): Promise<bigint> {
  const gracePeriod = await onChain("read the escrow's grace period", () =>
    readContract(chain.publicClient, { address: chain.escrow, abi: tollgateEscrowAbi, functionName: "CLOSE_GRACE_PERIOD" }).catch((error: unknown) => {
      if (!isContractRefusal(error)) throw error;
      throw new ConfigurationError("escrow", `\`escrow\` ${chain.escrow} is not a Tollgate escrow: it does not answer CLOSE_GRACE_PERIOD()`, { cause: error });
    }),
  );
  if (BigInt(gracePeriod) < MIN_CLOSE_GRACE_PERIOD) {
    throw new ConfigurationError("escrow", `\`escrow\` ${chain.escrow} has a CLOSE_GRACE_PERIOD of ${gracePeriod}s, below the ${MIN_CLOSE_GRACE_PERIOD}s a seller needs`);
  }
  return BigInt(gracePeriod);
}

/** Whether a contract call failed because the contract refused it (reverted or returned nothing), not the transport. */
export function isContractRefusal(error: unknown): boolean {
  return error instanceof BaseError && error.walk((cause) => cause instanceof ContractFunctionRevertedError || cause instanceof ContractFunctionZeroDataError) !== null;
}

export type CodeCacheOptions = {
  /** Milliseconds an answer is remembered; defaults to 60 000. EIP-7702 accounts gain and drop code. */
  ttl?: number;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
};

/** Whether `address` has code (an ERC-1271 wallet can sign); remembered for `ttl`, since code rarely changes. */
export function createCodeCache(client: Client, { ttl = 60_000, now = Date.now }: CodeCacheOptions = {}) {
  const known = new Map<Address, { hasCode: Promise<boolean>; readAt: number }>();
  return (address: Address): Promise<boolean> => {
    const cached = known.get(address);
    if (cached && now() - cached.readAt < ttl) return cached.hasCode;
    const entry = {
      hasCode: onChain("read the signer's code", async () => ((await getCode(client, { address })) ?? "0x") !== "0x"),
      readAt: now(),
    };
    entry.hasCode.catch(() => known.get(address) === entry && known.delete(address));
    known.set(address, entry);
    return entry.hasCode;
  };
}
