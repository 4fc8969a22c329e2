import { type Address, type Hex, zeroAddress } from "viem";
import type { Channel } from "../../channel/Channel.js";
import { getChannel } from "../../channel/getChannel.js";
import { tollgateEscrowAbi } from "../../generated/tollgateEscrowAbi.js";
import type { ChannelRecord, SessionStore } from "../../server/store/SessionStore.js";
import type { Command } from "../command.js";
import {
  CHAIN_OPTIONS,
  CHAIN_OPTIONS_HELP,
  channelIdArgument,
  channelStatus,
  type CommandContext,
  connectEscrow,
  type EscrowConnection,
  hasRpcUrl,
  loadAccount,
  parseAddressFlag,
  readGracePeriod,
  requireChannel,
  stringOption,
  tokenCache,
} from "../context.js";
import { isUnreachable, notFound, usageError } from "../errors.js";
import { fields, formatAmount, isoTime, table, type TokenInfo } from "../output.js";
import { DB_HELP, withStore } from "../store.js";

export const channelsCommand: Command = {
  name: "channels",
  summary: "list a payer's or payee's channels from the escrow's logs, or inspect one channel",
  help: `Usage: tollgate channels [--payer <address>] [--payee <address>] [--from-block <n>] [--db <path|url>]
       tollgate channels <channelId> [--db <path|url>]

Lists channels from the escrow's ChannelOpened logs (filtered by the indexed payer and payee topics)
with each channel's current state from getChannel. With neither --payer nor --payee, lists the channels
of the account of $TOLLGATE_PRIVATE_KEY in both roles. With a channel id, shows that one channel.

With --db, adds the seller's accounting from the session store (accepted voucher, spent, reserved,
units). With --db and no RPC endpoint, shows the store's records alone (amounts in base units).

Options:
  --payer <address>      channels this address pays into
  --payee <address>      channels paying this address
  --from-block <n>       first block searched (default: the escrow's deployment block when bundled, else 0)
${DB_HELP}

${CHAIN_OPTIONS_HELP}`,
  options: {
    ...CHAIN_OPTIONS,
    payer: { type: "string" },
    payee: { type: "string" },
    "from-block": { type: "string" },
    db: { type: "string" },
  },
  run,
};

type ChannelView = {
  channelId: Hex;
  status: "open" | "closing" | "finalized";
  payer: Address;
  payee: Address;
  token: TokenInfo;
  /** Null when the payer signs vouchers. */
  authorizedSigner: Address | null;
  deposit: bigint;
  settled: bigint;
  /** deposit − settled while the channel is live (what the payer gets back at close if nothing more is settled); 0 once finalized. */
  unsettled: bigint;
  closeRequestedAt: string | null;
  withdrawableAt: string | null;
  openedInBlock: bigint | null;
  openTransaction: Hex | null;
  store?: StoreView | null;
};

type StoreView = {
  status: ChannelRecord["status"];
  acceptedCumulative: bigint;
  /** Accepted but not settled on-chain: what a close with the accepted voucher would pay out now. */
  acceptedUnsettled: bigint | null;
  spent: bigint;
  reserved: bigint;
  units: bigint;
  hasVoucherSignature: boolean;
  lastTxHash: Hex | null;
  updatedAt: string;
};

async function run(context: CommandContext) {
  const channelId = channelIdArgument(context, { optional: true });
  const payerFlag = stringOption(context, "payer");
  const payeeFlag = stringOption(context, "payee");
  const payer = payerFlag === undefined ? undefined : parseAddressFlag("--payer", payerFlag);
  const payee = payeeFlag === undefined ? undefined : parseAddressFlag("--payee", payeeFlag);
  const fromBlockFlag = stringOption(context, "from-block");
  if (fromBlockFlag !== undefined && !/^[0-9]+$/.test(fromBlockFlag)) throw usageError(`--from-block: expected a block number (got ${JSON.stringify(fromBlockFlag)})`);
  const db = stringOption(context, "db");
  if (channelId !== undefined && (payer !== undefined || payee !== undefined)) {
    throw usageError("give either a channel id or --payer/--payee, not both");
  }
  if (!hasRpcUrl(context) && db !== undefined) return storeOnly(context, db, { channelId, payer, payee });

  const connection = await connectEscrow(context);
  const grace = await readGracePeriod(connection);
  const token = tokenCache(connection);
  const view = async (id: Hex, channel: Channel, opened?: { blockNumber: bigint; transactionHash: Hex }): Promise<ChannelView> =>
    channelView(id, channel, await token(channel.token), grace, opened);

  if (channelId !== undefined) {
    const channel = await requireChannel(connection, channelId);
    const result = await view(channelId, channel);
    if (db !== undefined) {
      const record = await withStore(db, context.io.cwd, (store) => store.getChannel(channelId));
      result.store = record === undefined ? null : storeView(record, channel.settled);
    }
    return { json: { chainId: connection.chainId, escrow: connection.escrow, channel: result }, human: describeChannel(result) };
  }

  const filters: { payer?: Address; payee?: Address }[] = [];
  let viewer: Address | undefined;
  if (payer !== undefined || payee !== undefined) {
    filters.push({ ...(payer === undefined ? {} : { payer }), ...(payee === undefined ? {} : { payee }) });
  } else {
    if (!context.io.env.TOLLGATE_PRIVATE_KEY) {
      throw usageError("say whose channels: --payer <address>, --payee <address>, a channel id, or set TOLLGATE_PRIVATE_KEY");
    }
    viewer = loadAccount(context).address;
    filters.push({ payer: viewer }, { payee: viewer });
  }

  const fromBlock =
    fromBlockFlag !== undefined
      ? BigInt(fromBlockFlag)
      : connection.deployment?.contracts.TollgateEscrow.address === connection.escrow
        ? BigInt(connection.deployment.contracts.TollgateEscrow.blockNumber ?? 0)
        : 0n;
  const toBlock = await connection.publicClient.getBlockNumber();
  const opened = new Map<Hex, { blockNumber: bigint; transactionHash: Hex }>();
  for (const filter of filters) {
    for (const log of await openedLogs(connection, filter, fromBlock, toBlock)) {
      const id = log.args.channelId!.toLowerCase() as Hex;
      if (!opened.has(id)) opened.set(id, { blockNumber: log.blockNumber!, transactionHash: log.transactionHash! });
    }
  }
  const ids = [...opened.keys()];
  const views = await mapLimited(ids, 8, async (id) => view(id, (await getChannel({ client: connection.publicClient, escrow: connection.escrow, channelId: id }))!, opened.get(id)));
  views.sort((a, b) => (a.openedInBlock! < b.openedInBlock! ? -1 : a.openedInBlock! > b.openedInBlock! ? 1 : 0));

  if (db !== undefined) {
    const records = await withStore(db, context.io.cwd, async (store) => storeRecords(store, filters));
    for (const entry of views) {
      const record = records.get(entry.channelId);
      entry.store = record === undefined ? null : storeView(record, entry.settled);
    }
  }
  const query = { ...(payer === undefined ? {} : { payer }), ...(payee === undefined ? {} : { payee }), ...(viewer === undefined ? {} : { account: viewer }) };
  return {
    json: { chainId: connection.chainId, escrow: connection.escrow, query, fromBlock, toBlock, channels: views },
    human: describeList(views, { payer, payee, viewer, withStore: db !== undefined }),
  };
}

/** ChannelOpened logs for one topic filter; a range the node refuses (too many blocks or results) is split in two. */
async function openedLogs(connection: EscrowConnection, args: { payer?: Address; payee?: Address }, fromBlock: bigint, toBlock: bigint) {
  const fetchRange = async (from: bigint, to: bigint, depth: number): Promise<Awaited<ReturnType<typeof query>>> => {
    try {
      return await query(from, to);
    } catch (error) {
      if (isUnreachable(error) || to <= from || depth >= 32) throw error;
      const middle = from + (to - from) / 2n;
      return [...(await fetchRange(from, middle, depth + 1)), ...(await fetchRange(middle + 1n, to, depth + 1))];
    }
  };
  const query = (from: bigint, to: bigint) =>
    connection.publicClient.getContractEvents({
      address: connection.escrow,
      abi: tollgateEscrowAbi,
      eventName: "ChannelOpened",
      args,
      fromBlock: from,
      toBlock: to,
      strict: true,
    });
  if (fromBlock > toBlock) return [];
  return fetchRange(fromBlock, toBlock, 0);
}

async function storeRecords(store: SessionStore, filters: { payer?: Address; payee?: Address }[]): Promise<Map<Hex, ChannelRecord>> {
  const records = new Map<Hex, ChannelRecord>();
  for (const filter of filters) {
    for (const record of await store.listChannels(filter)) records.set(record.channelId.toLowerCase() as Hex, record);
  }
  return records;
}

async function storeOnly(
  context: CommandContext,
  db: string,
  { channelId, payer, payee }: { channelId: Hex | undefined; payer: Address | undefined; payee: Address | undefined },
) {
  const records = await withStore(db, context.io.cwd, async (store) => {
    if (channelId !== undefined) {
      const record = await store.getChannel(channelId);
      if (record === undefined) throw notFound(`channel ${channelId} is not in the store`, { channelId });
      return [record];
    }
    if (payer === undefined && payee === undefined) return store.listChannels();
    return store.listChannels({ ...(payer === undefined ? {} : { payer }), ...(payee === undefined ? {} : { payee }) });
  });
  const rows = records.map((record) => ({
    channelId: record.channelId,
    chainId: record.chainId,
    escrow: record.escrow,
    payer: record.payer,
    payee: record.payee,
    token: record.token,
    deposit: record.deposit,
    settledOnChain: record.settledOnChain,
    store: storeView(record, record.settledOnChain),
  }));
  const human = table(
    ["CHANNEL", "STATUS", "PAYER", "DEPOSIT", "SETTLED", "ACCEPTED", "SPENT", "UNITS"],
    rows.map((row) => [
      row.channelId,
      row.store.status,
      row.payer,
      row.deposit.toString(),
      row.settledOnChain.toString(),
      row.store.acceptedCumulative.toString(),
      row.store.spent.toString(),
      row.store.units.toString(),
    ]),
  );
  return {
    json: { source: "store", channels: rows },
    human: `${human}\n(from the store only, amounts in base units; pass --rpc-url for the on-chain state)`,
  };
}

function channelView(
  channelId: Hex,
  channel: Channel,
  token: TokenInfo,
  grace: bigint,
  opened?: { blockNumber: bigint; transactionHash: Hex },
): ChannelView {
  const requested = channel.closeRequestedAt > 0n && !channel.finalized;
  return {
    channelId,
    status: channelStatus(channel),
    payer: channel.payer,
    payee: channel.payee,
    token,
    authorizedSigner: channel.authorizedSigner === zeroAddress ? null : channel.authorizedSigner,
    deposit: channel.deposit,
    settled: channel.settled,
    // A finalized channel paid out or refunded all of its deposit: the escrow holds nothing for it.
    unsettled: channel.finalized ? 0n : channel.deposit - channel.settled,
    closeRequestedAt: requested ? isoTime(channel.closeRequestedAt) : null,
    withdrawableAt: requested ? isoTime(channel.closeRequestedAt + grace) : null,
    openedInBlock: opened?.blockNumber ?? null,
    openTransaction: opened?.transactionHash ?? null,
  };
}

function storeView(record: ChannelRecord, settledOnChain: bigint): StoreView {
  return {
    status: record.status,
    acceptedCumulative: record.acceptedCumulative,
    acceptedUnsettled: record.acceptedCumulative > settledOnChain ? record.acceptedCumulative - settledOnChain : 0n,
    spent: record.spent,
    reserved: record.reserved,
    units: record.units,
    hasVoucherSignature: record.acceptedSignature !== null,
    lastTxHash: record.lastTxHash,
    updatedAt: new Date(record.updatedAt).toISOString(),
  };
}

function describeStatus(view: ChannelView): string {
  if (view.status === "closing") return `closing (close requested ${view.closeRequestedAt}; the payer can withdraw from ${view.withdrawableAt})`;
  return view.status;
}

function describeChannel(view: ChannelView): string {
  const amount = (value: bigint) => formatAmount(value, view.token);
  const lines: [string, string][] = [
    ["channel", view.channelId],
    ["status", describeStatus(view)],
    ["payer", view.payer],
    ["payee", view.payee],
    ["token", `${view.token.address} (${view.token.symbol ?? "no symbol"}, ${view.token.decimals} decimals)`],
    ["voucher signer", view.authorizedSigner ?? "the payer"],
    ["deposit", amount(view.deposit)],
    ["settled", amount(view.settled)],
    ["unsettled", amount(view.unsettled)],
  ];
  if (view.store === null) lines.push(["seller's store", "no record of this channel"]);
  if (view.store) {
    lines.push(
      ["store status", view.store.status],
      ["accepted voucher", `${amount(view.store.acceptedCumulative)} (${amount(view.store.acceptedUnsettled ?? 0n)} not settled on-chain)`],
      ["spent", amount(view.store.spent)],
      ["reserved", amount(view.store.reserved)],
      ["units", view.store.units.toString()],
      ["last transaction", view.store.lastTxHash ?? "none"],
    );
  }
  return fields(lines);
}

function describeList(
  views: ChannelView[],
  { payer, payee, viewer, withStore }: { payer?: Address; payee?: Address; viewer?: Address; withStore: boolean },
): string {
  const whose = viewer !== undefined ? `${viewer} (as payer or payee)` : [payer && `payer ${payer}`, payee && `payee ${payee}`].filter(Boolean).join(", ");
  if (views.length === 0) return `no channels for ${whose}`;
  const headers = ["CHANNEL", "STATUS"];
  if (viewer !== undefined) headers.push("ROLE", "COUNTERPARTY");
  else {
    if (payer === undefined) headers.push("PAYER");
    if (payee === undefined) headers.push("PAYEE");
  }
  headers.push("DEPOSIT", "SETTLED");
  if (withStore) headers.push("ACCEPTED", "SPENT");
  const rows = views.map((view) => {
    const amount = (value: bigint) => formatAmount(value, view.token);
    const row: string[] = [view.channelId, view.status];
    if (viewer !== undefined) {
      const asPayer = view.payer === viewer;
      row.push(asPayer ? "payer" : "payee", asPayer ? view.payee : view.payer);
    } else {
      if (payer === undefined) row.push(view.payer);
      if (payee === undefined) row.push(view.payee);
    }
    row.push(amount(view.deposit), amount(view.settled));
    if (withStore) row.push(view.store ? amount(view.store.acceptedCumulative) : "-", view.store ? amount(view.store.spent) : "-");
    return row;
  });
  return `${views.length} channel${views.length === 1 ? "" : "s"} for ${whose}\n${table(headers, rows)}`;
}

/** Maps with at most `limit` calls in flight, keeping order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
