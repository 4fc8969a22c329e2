import { erc20Abi, parseEventLogs } from "viem";
import { tollgateEscrowAbi } from "../../generated/tollgateEscrowAbi.js";
import { topUpChannel } from "../../transactions/topUpChannel.js";
import type { Command } from "../command.js";
import {
  CHAIN_OPTIONS,
  CHAIN_OPTIONS_HELP,
  channelIdArgument,
  checkAmountSyntax,
  connectEscrow,
  loadAccount,
  parseAmountFlag,
  readToken,
  requireChannel,
  stringOption,
  TRANSACTION_OPTIONS,
  TRANSACTION_OPTIONS_HELP,
  transactionOptions,
  walletFor,
} from "../context.js";
import { usageError } from "../errors.js";
import { fields, formatAmount } from "../output.js";

export const topUpCommand: Command = {
  name: "top-up",
  summary: "add to a channel's deposit; cancels a pending forced close (payer)",
  help: `Usage: tollgate top-up <channelId> --amount <tokens>

Adds --amount of the channel's token to its deposit, from the account of $TOLLGATE_PRIVATE_KEY (which
must be the channel's payer), approving exactly that amount first when the allowance is short. A
pending forced close (request-close) is cancelled.

Options:
  --amount <tokens>      whole tokens with the token's decimals, e.g. 2.50

${CHAIN_OPTIONS_HELP}

${TRANSACTION_OPTIONS_HELP}`,
  options: { ...CHAIN_OPTIONS, ...TRANSACTION_OPTIONS, amount: { type: "string" } },
  async run(context) {
    const channelId = channelIdArgument(context)!;
    const amountFlag = stringOption(context, "amount");
    if (amountFlag === undefined) throw usageError("missing --amount <tokens>");
    checkAmountSyntax("--amount", amountFlag);
    const options = transactionOptions(context);
    const account = loadAccount(context);
    const connection = await connectEscrow(context);
    const channel = await requireChannel(connection, channelId);
    const token = await readToken(connection, channel.token);
    const amount = parseAmountFlag("--amount", amountFlag, token);
    const balance = await connection.publicClient.readContract({ address: token.address, abi: erc20Abi, functionName: "balanceOf", args: [account.address] });
    if (balance < amount) throw usageError(`--amount ${amountFlag} is more than the balance of ${formatAmount(balance, token)}`, { balance, amount });

    context.log(`adding ${formatAmount(amount, token)} to ${channelId} (approving first if needed)…`);
    const result = await topUpChannel({
      client: walletFor(connection, account),
      publicClient: connection.publicClient,
      escrow: connection.escrow,
      channelId,
      additionalDeposit: amount,
      ...options,
    });
    const [event] = parseEventLogs({ abi: tollgateEscrowAbi, logs: result.receipt.logs, eventName: "ChannelToppedUp" });
    const deposit = event?.args.deposit ?? channel.deposit + amount;
    const cancelledClose = channel.closeRequestedAt > 0n;
    return {
      json: {
        chainId: connection.chainId,
        escrow: connection.escrow,
        channelId,
        token,
        amount,
        deposit,
        cancelledCloseRequest: cancelledClose,
        transactionHash: result.hash,
        blockNumber: result.receipt.blockNumber,
        approvalTransactionHash: result.approval?.hash ?? null,
      },
      human: fields([
        ["channel", channelId],
        ["added", formatAmount(amount, token)],
        ["deposit", formatAmount(deposit, token)],
        ...(cancelledClose ? [["close request", "cancelled"] as [string, string]] : []),
        ["transaction", `${result.hash} (block ${result.receipt.blockNumber})`],
        ["approval", result.approval?.hash ?? "not needed"],
      ]),
    };
  },
};
