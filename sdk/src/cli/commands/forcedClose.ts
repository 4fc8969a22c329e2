import { parseEventLogs } from "viem";
import { tollgateEscrowAbi } from "../../generated/tollgateEscrowAbi.js";
import { requestChannelClose } from "../../transactions/requestChannelClose.js";
import { withdrawChannel } from "../../transactions/withdrawChannel.js";
import type { Command } from "../command.js";
import {
  CHAIN_OPTIONS,
  CHAIN_OPTIONS_HELP,
  channelIdArgument,
  connectEscrow,
  loadAccount,
  readGracePeriod,
  readToken,
  requireChannel,
  TRANSACTION_OPTIONS,
  TRANSACTION_OPTIONS_HELP,
  transactionOptions,
  walletFor,
} from "../context.js";
import { fields, formatAmount, isoTime } from "../output.js";

export const requestCloseCommand: Command = {
  name: "request-close",
  summary: "start a forced close; withdraw works once the grace period has passed (payer)",
  help: `Usage: tollgate request-close <channelId>

Starts the forced close of a channel whose payee does not close it, from the account of
$TOLLGATE_PRIVATE_KEY (the channel's payer). The payee can still settle or close during the grace
period (CLOSE_GRACE_PERIOD, 15 minutes); after it, \`tollgate withdraw\` refunds the unsettled deposit.

${CHAIN_OPTIONS_HELP}

${TRANSACTION_OPTIONS_HELP}`,
  options: { ...CHAIN_OPTIONS, ...TRANSACTION_OPTIONS },
  async run(context) {
    const channelId = channelIdArgument(context)!;
    const options = transactionOptions(context);
    const account = loadAccount(context);
    const connection = await connectEscrow(context);
    await requireChannel(connection, channelId);
    const grace = await readGracePeriod(connection);
    context.log(`requesting the close of ${channelId}…`);
    const result = await requestChannelClose({
      client: walletFor(connection, account),
      publicClient: connection.publicClient,
      escrow: connection.escrow,
      channelId,
      ...options,
    });
    const [event] = parseEventLogs({ abi: tollgateEscrowAbi, logs: result.receipt.logs, eventName: "CloseRequested" });
    const requestedAt = event!.args.closeRequestedAt;
    return {
      json: {
        chainId: connection.chainId,
        escrow: connection.escrow,
        channelId,
        closeRequestedAt: isoTime(requestedAt),
        withdrawableAt: isoTime(requestedAt + grace),
        gracePeriodSeconds: grace,
        transactionHash: result.hash,
        blockNumber: result.receipt.blockNumber,
      },
      human: fields([
        ["channel", channelId],
        ["close requested", isoTime(requestedAt)],
        ["withdrawable from", `${isoTime(requestedAt + grace)} (tollgate withdraw ${channelId})`],
        ["transaction", `${result.hash} (block ${result.receipt.blockNumber})`],
      ]),
    };
  },
};

export const withdrawCommand: Command = {
  name: "withdraw",
  summary: "after a requested close's grace period, refund the unsettled deposit (payer)",
  help: `Usage: tollgate withdraw <channelId>

Refunds deposit − settled to the payer and finalizes the channel, once \`tollgate request-close\`'s grace
period has passed (before that the escrow reverts with CloseNotReady: exit 3). Sent from the account of
$TOLLGATE_PRIVATE_KEY, which must be the channel's payer.

${CHAIN_OPTIONS_HELP}

${TRANSACTION_OPTIONS_HELP}`,
  options: { ...CHAIN_OPTIONS, ...TRANSACTION_OPTIONS },
  async run(context) {
    const channelId = channelIdArgument(context)!;
    const options = transactionOptions(context);
    const account = loadAccount(context);
    const connection = await connectEscrow(context);
    const channel = await requireChannel(connection, channelId);
    const token = await readToken(connection, channel.token);
    context.log(`withdrawing from ${channelId}…`);
    const result = await withdrawChannel({
      client: walletFor(connection, account),
      publicClient: connection.publicClient,
      escrow: connection.escrow,
      channelId,
      ...options,
    });
    const [event] = parseEventLogs({ abi: tollgateEscrowAbi, logs: result.receipt.logs, eventName: "ChannelWithdrawn" });
    const refund = event!.args.refund;
    return {
      json: {
        chainId: connection.chainId,
        escrow: connection.escrow,
        channelId,
        token,
        refund,
        settled: channel.settled,
        transactionHash: result.hash,
        blockNumber: result.receipt.blockNumber,
      },
      human: fields([
        ["channel", `${channelId} (finalized)`],
        ["refunded", `${formatAmount(refund, token)} to ${channel.payer}`],
        ["settled to payee", formatAmount(channel.settled, token)],
        ["transaction", `${result.hash} (block ${result.receipt.blockNumber})`],
      ]),
    };
  },
};
