import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type Hex, parseEventLogs } from "viem";
import { parseAmount } from "../../encoding/parseAmount.js";
import { parseBytes32 } from "../../encoding/parseBytes32.js";
import { parseHex } from "../../encoding/parseHex.js";
import { tollgateEscrowAbi } from "../../generated/tollgateEscrowAbi.js";
import { closeChannel } from "../../transactions/closeChannel.js";
import type { Command } from "../command.js";
import {
  CHAIN_OPTIONS,
  CHAIN_OPTIONS_HELP,
  channelIdArgument,
  checkAmountSyntax,
  type CommandContext,
  connectEscrow,
  loadAccount,
  parseAmountFlag,
  parseFlag,
  readToken,
  requireChannel,
  stringOption,
  TRANSACTION_OPTIONS,
  TRANSACTION_OPTIONS_HELP,
  transactionOptions,
  walletFor,
} from "../context.js";
import { CliError, EXIT, notFound, usageError } from "../errors.js";
import { fields, formatAmount } from "../output.js";
import { DB_HELP, withStore } from "../store.js";

export const closeCommand: Command = {
  name: "close",
  summary: "settle a final voucher, refund the rest and finalize the channel (payee)",
  help: `Usage: tollgate close <channelId> --voucher <file>
       tollgate close <channelId> --amount <tokens> --signature <hex>
       tollgate close <channelId> --db <path|url>
       tollgate close <channelId> --forfeit

Closes a channel from the account of $TOLLGATE_PRIVATE_KEY, which must be the channel's payee: the
escrow pays out the final voucher's cumulative amount minus what is already settled, refunds the rest
of the deposit to the payer and finalizes the channel. Exactly one source for the final voucher:

  --voucher <file>       a JSON file {"channelId": "0x…", "cumulativeAmount": "<base units>", "signature": "0x…"}
                         (the wire form of a voucher; channelId optional, and then <channelId> may be omitted)
  --amount <tokens>      the voucher's cumulative amount in whole tokens, with --signature <hex>
  --db <path|url>        the highest voucher the seller's session store accepted for the channel
  --forfeit              no voucher: settle nothing more, refund everything unsettled to the payer

${DB_HELP}

${CHAIN_OPTIONS_HELP}

${TRANSACTION_OPTIONS_HELP}`,
  options: {
    ...CHAIN_OPTIONS,
    ...TRANSACTION_OPTIONS,
    voucher: { type: "string" },
    amount: { type: "string" },
    signature: { type: "string" },
    db: { type: "string" },
    forfeit: { type: "boolean" },
  },
  async run(context) {
    const source = await finalVoucherSource(context);
    const options = transactionOptions(context);
    const account = loadAccount(context);
    const connection = await connectEscrow(context);
    const channelId = source.channelId;
    const channel = await requireChannel(connection, channelId);
    if (channel.finalized) {
      throw new CliError(EXIT.reverted, `channel ${channelId} is already finalized: there is nothing left to close (nothing was sent)`, {
        errorName: "ChannelFinalized",
        args: [channelId],
      });
    }
    const token = await readToken(connection, channel.token);

    let cumulativeAmount: bigint;
    let signature: Hex;
    if (source.kind === "forfeit") {
      cumulativeAmount = channel.settled;
      signature = "0x";
    } else if (source.kind === "amount") {
      cumulativeAmount = parseAmountFlag("--amount", source.amount, token);
      signature = source.signature;
    } else if (source.kind === "voucher") {
      ({ cumulativeAmount, signature } = source);
    } else {
      const record = await withStore(source.db, context.io.cwd, (store) => store.getChannel(channelId));
      if (record === undefined || record.acceptedSignature === null || record.acceptedCumulative === 0n) {
        throw notFound(`the store has no accepted voucher for ${channelId}; use --forfeit to close without one`, { channelId });
      }
      cumulativeAmount = record.acceptedCumulative;
      signature = record.acceptedSignature;
    }

    const forfeits = cumulativeAmount <= channel.settled;
    context.log(
      forfeits
        ? `closing ${channelId} without a new voucher: ${formatAmount(channel.deposit - channel.settled, token)} goes back to the payer…`
        : `closing ${channelId} with a voucher for ${formatAmount(cumulativeAmount, token)}…`,
    );
    const result = await closeChannel({
      client: walletFor(connection, account),
      publicClient: connection.publicClient,
      escrow: connection.escrow,
      channelId,
      cumulativeAmount,
      signature,
      ...options,
    });
    const [event] = parseEventLogs({ abi: tollgateEscrowAbi, logs: result.receipt.logs, eventName: "ChannelClosed" });
    const { settled, amount, refund } = event!.args;
    return {
      json: {
        chainId: connection.chainId,
        escrow: connection.escrow,
        channelId,
        token,
        voucherSource: source.kind,
        cumulativeAmount,
        settled,
        paidToPayee: amount,
        refundedToPayer: refund,
        transactionHash: result.hash,
        blockNumber: result.receipt.blockNumber,
      },
      human: fields([
        ["channel", `${channelId} (finalized)`],
        ["paid to payee", `${formatAmount(amount, token)} (settled in total: ${formatAmount(settled, token)})`],
        ["refunded to payer", formatAmount(refund, token)],
        ["transaction", `${result.hash} (block ${result.receipt.blockNumber})`],
      ]),
    };
  },
};

type VoucherSource =
  | { kind: "forfeit"; channelId: Hex }
  | { kind: "amount"; channelId: Hex; amount: string; signature: Hex }
  | { kind: "voucher"; channelId: Hex; cumulativeAmount: bigint; signature: Hex }
  | { kind: "db"; channelId: Hex; db: string };

/** Which final voucher the payee closes with; every check that needs no node happens here. */
async function finalVoucherSource(context: CommandContext): Promise<VoucherSource> {
  const voucherFile = stringOption(context, "voucher");
  const amount = stringOption(context, "amount");
  const signature = stringOption(context, "signature");
  const db = stringOption(context, "db");
  const forfeit = context.values.forfeit === true;
  const chosen = [voucherFile !== undefined, amount !== undefined || signature !== undefined, db !== undefined, forfeit].filter(Boolean).length;
  if (chosen !== 1) throw usageError("give exactly one of --voucher <file>, --amount with --signature, --db, or --forfeit");
  let channelId = channelIdArgument(context, { optional: voucherFile !== undefined });

  if (voucherFile !== undefined) {
    const voucher = await readVoucherFile(resolve(context.io.cwd, voucherFile));
    if (voucher.channelId !== undefined && channelId !== undefined && voucher.channelId !== channelId) {
      throw usageError(`the voucher in ${voucherFile} is for channel ${voucher.channelId}, not ${channelId}`);
    }
    channelId ??= voucher.channelId;
    if (channelId === undefined) throw usageError("missing <channelId> (the voucher file has none)");
    return { kind: "voucher", channelId, cumulativeAmount: voucher.cumulativeAmount, signature: voucher.signature };
  }
  if (amount !== undefined || signature !== undefined) {
    if (amount === undefined) throw usageError("--signature needs --amount <tokens>");
    if (signature === undefined) throw usageError("--amount needs --signature <hex> (or close with --forfeit)");
    checkAmountSyntax("--amount", amount);
    return { kind: "amount", channelId: channelId!, amount, signature: parseFlag("--signature", signature, parseHex) };
  }
  if (db !== undefined) return { kind: "db", channelId: channelId!, db };
  return { kind: "forfeit", channelId: channelId! };
}

async function readVoucherFile(file: string): Promise<{ channelId: Hex | undefined; cumulativeAmount: bigint; signature: Hex }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw usageError(`--voucher: no file ${file}`);
    throw error;
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw usageError(`--voucher: ${file} is not JSON`);
  }
  if (typeof json !== "object" || json === null) throw usageError(`--voucher: ${file} does not hold a JSON object`);
  return {
    channelId: json.channelId === undefined ? undefined : parseFlag("--voucher channelId", String(json.channelId), parseBytes32),
    cumulativeAmount: parseFlag("--voucher cumulativeAmount (base units, a decimal string)", String(json.cumulativeAmount), parseAmount),
    signature: parseFlag("--voucher signature", String(json.signature), parseHex),
  };
}
