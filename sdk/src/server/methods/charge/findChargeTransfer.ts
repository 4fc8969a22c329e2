import { type Address, erc20Abi, isAddressEqual, type Log, parseEventLogs } from "viem";

export type FindChargeTransferParameters = {
  logs: Log[];
  currency: Address;
  recipient: Address;
  amount: bigint;
  /** When given, the transfer must come from this account. */
  from?: Address | undefined;
};

/**
 * The first ERC-20 `Transfer` log of `currency` to `recipient` for exactly `amount` ("a `Transfer`
 * event log matching the challenge parameters"), or undefined. The first, so that one transaction
 * always names the same payer.
 */
export function findChargeTransfer({ logs, currency, recipient, amount, from }: FindChargeTransferParameters): { from: Address } | undefined {
  const transfers = parseEventLogs({ abi: erc20Abi, eventName: "Transfer", logs, strict: true });
  const match = transfers.find(
    (log) =>
      isAddressEqual(log.address, currency) &&
      isAddressEqual(log.args.to, recipient) &&
      log.args.value === amount &&
      (from === undefined || isAddressEqual(log.args.from, from)),
  );
  return match ? { from: match.args.from } : undefined;
}
