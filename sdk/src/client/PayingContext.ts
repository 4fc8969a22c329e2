import type { Chain, LocalAccount, PublicClient } from "viem";
import type { TransactionOptions } from "../transactions/TransactionOptions.js";
import type { ClientChannel, ClientChannelStore } from "./ClientChannel.js";
import type { Exclusive } from "./createExclusive.js";
import type { SpendingLimits } from "./createSpendingLimits.js";

/** What the paying client's modules share: the payer, its chain, its channels and its limits. */
export type PayingContext = {
  /** Signs as the payer, through its wallet (see toPayingWallet); `account.address` is the payer. */
  account: LocalAccount;
  /** Open each channel with a fresh session key that signs its vouchers, instead of the payer's wallet. */
  sessionKeys: boolean;
  chain: Chain;
  publicClient: PublicClient;
  transactionOptions: TransactionOptions;
  /** This payer's channels only (see createOwnChannelStore). */
  store: ClientChannelStore;
  limits: SpendingLimits;
  exclusive: Exclusive;
  /**
   * Runs the payer's own transactions one at a time: channels are locked separately, but they share the
   * account's nonce and its token allowance (an approve sets it, so two interleaved approve + open pairs
   * would spend each other's allowance).
   */
  transacting<T>(task: () => Promise<T>): Promise<T>;
  /** Stores a channel (stamped; its session key dropped once it is no longer open) and tells `onChannelUpdate`. */
  save(channel: ClientChannel): Promise<ClientChannel>;
  /** Runs a payment made outside a request (a voucher a stream asks for) as one in flight, in the client's state. */
  trackPayment<T>(task: () => Promise<T>): Promise<T>;
  /** Seconds an EIP-3009 authorization stays valid. */
  authorizationTtl: number;
};
