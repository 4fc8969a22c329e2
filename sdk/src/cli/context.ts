// What every command shares: options, the node and the escrow it talks to, the signing key, tokens and amounts.
import {
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  erc20Abi,
  type Hex,
  http,
  type PublicClient,
  type Transport,
  type WalletClient,
  webSocket,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { getChannel } from "../channel/getChannel.js";
import type { Channel } from "../channel/Channel.js";
import { chainPresets } from "../deployments/chainPresets.js";
import { getDeployment } from "../deployments/getDeployment.js";
import type { Deployment } from "../deployments/Deployment.js";
import { parseAddress } from "../encoding/parseAddress.js";
import { parseBytes32 } from "../encoding/parseBytes32.js";
import { parseTokenAmount } from "../encoding/parseTokenAmount.js";
import { InvalidValueError } from "../errors/InvalidValueError.js";
import { tollgateEscrowAbi } from "../generated/tollgateEscrowAbi.js";
import { defaultPollingInterval } from "../transactions/defaultPollingInterval.js";
import { CliError, EXIT, notFound, usageError } from "./errors.js";
import type { Io, TokenInfo } from "./output.js";

export type OptionSpec = { type: "string" | "boolean"; short?: string; multiple?: false };
export type OptionSpecs = Record<string, OptionSpec>;
export type Values = Record<string, string | boolean | undefined>;

/** Options every command takes. */
export const GLOBAL_OPTIONS = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpecs;

/** Options of every command that talks to a chain. */
export const CHAIN_OPTIONS = {
  "rpc-url": { type: "string" },
  "chain-id": { type: "string" },
  escrow: { type: "string" },
} as const satisfies OptionSpecs;

/** Options of every command that sends a transaction. */
export const TRANSACTION_OPTIONS = {
  timeout: { type: "string" },
  confirmations: { type: "string" },
} as const satisfies OptionSpecs;

export const CHAIN_OPTIONS_HELP = `Chain options:
  --rpc-url <url>        JSON-RPC endpoint (http, https, ws, wss); default: $TOLLGATE_RPC_URL
  --chain-id <id>        expected chain id: refuses to run when the node is on another chain
  --escrow <address>     escrow contract; default: the SDK's bundled deployment for the chain`;

export const TRANSACTION_OPTIONS_HELP = `Transaction options:
  --timeout <seconds>    how long to wait for a receipt (default 60); past it, exit 6
  --confirmations <n>    blocks that must include the transaction (default 1)
  The signing key is read from $TOLLGATE_PRIVATE_KEY (0x + 64 hex digits) and from nowhere else.`;

export type CommandContext = {
  values: Values;
  positionals: string[];
  io: Io;
  json: boolean;
  /** Progress for humans: always on stderr, so stdout holds only the result. */
  log(line: string): void;
};

export function stringOption(context: CommandContext, name: string): string | undefined {
  const value = context.values[name];
  return typeof value === "string" ? value : undefined;
}

/** Runs a parser on a flag's value, naming the flag in the usage error. */
export function parseFlag<T>(flag: string, value: string, parse: (value: string) => T): T {
  try {
    return parse(value);
  } catch (error) {
    if (error instanceof InvalidValueError) throw usageError(`${flag}: ${error.message} (got ${JSON.stringify(value)})`);
    throw error;
  }
}

export const parseAddressFlag = (flag: string, value: string): Address => parseFlag(flag, value, parseAddress);

export function parsePositiveInteger(flag: string, value: string, { min = 1 }: { min?: number } = {}): number {
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min) {
    throw usageError(`${flag}: expected an integer of at least ${min} (got ${JSON.stringify(value)})`);
  }
  return Number(value);
}

/** The one positional channel id of a channel command. */
export function channelIdArgument(context: CommandContext, { optional = false } = {}): Hex | undefined {
  const [value, ...rest] = context.positionals;
  if (rest.length > 0) throw usageError(`unexpected argument ${JSON.stringify(rest[0])}`);
  if (value === undefined) {
    if (optional) return undefined;
    throw usageError("missing <channelId>");
  }
  return parseFlag("<channelId>", value, parseBytes32);
}

export function noPositionals(context: CommandContext): void {
  if (context.positionals.length > 0) throw usageError(`unexpected argument ${JSON.stringify(context.positionals[0])}`);
}

const AMOUNT = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/** Checks an amount's shape before anything is asked of the node, so a typo is a usage error even offline. */
export function checkAmountSyntax(flag: string, value: string): void {
  if (/^-[0-9.]/.test(value)) throw negativeValue(flag, value);
  if (!AMOUNT.test(value)) throw usageError(`${flag}: expected a decimal amount of whole tokens such as 1.50 (got ${JSON.stringify(value)})`);
}

const negativeValue = (flag: string, value: string) => usageError(`${flag}: cannot be negative (got ${JSON.stringify(value)})`);

/**
 * `--flag -1` is a negative number given to a flag that takes a value, not a missing value: node's parser
 * would call it "ambiguous", so it is named for what it is before parsing.
 */
export function rejectNegativeValues(args: readonly string[], options: OptionSpecs): void {
  for (let index = 0; index + 1 < args.length; index++) {
    const flag = args[index]!;
    if (!flag.startsWith("--") || options[flag.slice(2)]?.type !== "string") continue;
    const value = args[index + 1]!;
    if (/^-[0-9.]/.test(value)) throw negativeValue(flag, value);
  }
}

/** Whole tokens to base units with the token's decimals, in bigint arithmetic only; zero is refused. */
export function parseAmountFlag(flag: string, value: string, token: TokenInfo): bigint {
  checkAmountSyntax(flag, value);
  const amount = parseFlag(flag, value, (text) => parseTokenAmount({ value: text, decimals: token.decimals }));
  if (amount === 0n) throw usageError(`${flag}: must be more than zero`);
  return amount;
}

/** scheme://host[:port] of an RPC URL: paths and query strings often carry API keys. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === "/" && parsed.search === "" ? "" : "/…"}`;
  } catch {
    return "(unparsable URL)";
  }
}

export type Connection = {
  rpcUrl: string;
  chain: Chain;
  chainId: number;
  transport: Transport;
  publicClient: PublicClient;
  /** The bundled deployment for this chain, when there is one. */
  deployment: Deployment | undefined;
};

export type EscrowConnection = Connection & { escrow: Address };

/** Whether the command has a node to talk to (flag or environment). */
export function hasRpcUrl(context: CommandContext): boolean {
  return (stringOption(context, "rpc-url") ?? context.io.env.TOLLGATE_RPC_URL ?? "") !== "";
}

/** Connects to the node and checks it answers, on the expected chain. */
export async function connect(context: CommandContext): Promise<Connection> {
  const rpcUrl = stringOption(context, "rpc-url") ?? context.io.env.TOLLGATE_RPC_URL ?? "";
  if (rpcUrl === "") throw usageError("no RPC endpoint: pass --rpc-url <url> or set TOLLGATE_RPC_URL");
  let protocol: string;
  try {
    protocol = new URL(rpcUrl).protocol;
  } catch {
    throw usageError("--rpc-url: not a URL");
  }
  const transport =
    protocol === "http:" || protocol === "https:"
      ? http(rpcUrl, { retryCount: 1, timeout: 20_000 })
      : protocol === "ws:" || protocol === "wss:"
        ? webSocket(rpcUrl, { retryCount: 1, timeout: 20_000 })
        : undefined;
  if (transport === undefined) throw usageError(`--rpc-url: expected an http, https, ws or wss URL (got ${protocol})`);
  const expected = stringOption(context, "chain-id");
  const expectedChainId = expected === undefined ? undefined : parsePositiveInteger("--chain-id", expected);

  let chainId: number;
  try {
    chainId = await createPublicClient({ transport }).getChainId();
  } catch (error) {
    throw new CliError(EXIT.unreachable, `cannot reach the RPC node at ${redactUrl(rpcUrl)}`, {}, { cause: error });
  }
  if (expectedChainId !== undefined && expectedChainId !== chainId) {
    throw usageError(`--chain-id ${expectedChainId}, but the node at ${redactUrl(rpcUrl)} is on chain ${chainId}`);
  }
  const preset = Object.values(chainPresets).find((candidate) => candidate.chain.id === chainId);
  const chain =
    preset?.chain ??
    defineChain({
      id: chainId,
      name: `Chain ${chainId}`,
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [rpcUrl] } },
    });
  const publicClient = createPublicClient({ chain, transport, pollingInterval: defaultPollingInterval(chain) });
  let deployment: Deployment | undefined;
  try {
    deployment = getDeployment({ chainId });
  } catch {
    deployment = undefined;
  }
  return { rpcUrl, chain, chainId, transport, publicClient: publicClient as PublicClient, deployment };
}

/** Connects and resolves the escrow (flag, else the bundled deployment), which must have code. */
export async function connectEscrow(context: CommandContext): Promise<EscrowConnection> {
  const flag = stringOption(context, "escrow");
  const flagged = flag === undefined ? undefined : parseAddressFlag("--escrow", flag);
  const connection = await connect(context);
  const escrow = flagged ?? getDeployment({ chainId: connection.chainId }).contracts.TollgateEscrow.address;
  const code = await connection.publicClient.getCode({ address: escrow });
  if (code === undefined || code === "0x") {
    throw notFound(`no contract at escrow ${escrow} on chain ${connection.chainId}${flagged ? "" : " (deploy it with `tollgate deploy`)"}`, {
      escrow,
      chainId: connection.chainId,
    });
  }
  return { ...connection, escrow };
}

const PRIVATE_KEY = /^0x[0-9a-fA-F]{64}$/;

/** The account of $TOLLGATE_PRIVATE_KEY. Never echoed, not even in part. */
export function loadAccount(context: CommandContext): Account {
  const key = context.io.env.TOLLGATE_PRIVATE_KEY;
  if (key === undefined || key === "") throw usageError("this command signs: set TOLLGATE_PRIVATE_KEY (the key is read from the environment only)");
  const normalized = key.startsWith("0x") ? key : `0x${key}`;
  if (!PRIVATE_KEY.test(normalized)) throw usageError("TOLLGATE_PRIVATE_KEY is not a private key (expected 0x and 64 hex digits)");
  try {
    return privateKeyToAccount(normalized as Hex);
  } catch {
    throw usageError("TOLLGATE_PRIVATE_KEY is not a valid secp256k1 private key");
  }
}

export function walletFor(connection: Connection, account: Account): WalletClient<Transport, Chain, Account> {
  return createWalletClient({ account, chain: connection.chain, transport: connection.transport });
}

/** `timeout` (ms) and `confirmations` for the SDK's transaction helpers. */
export function transactionOptions(context: CommandContext): { timeout?: number; confirmations?: number } {
  const timeout = stringOption(context, "timeout");
  const confirmations = stringOption(context, "confirmations");
  return {
    ...(timeout === undefined ? {} : { timeout: parsePositiveInteger("--timeout", timeout) * 1000 }),
    ...(confirmations === undefined ? {} : { confirmations: parsePositiveInteger("--confirmations", confirmations) }),
  };
}

/** Decimals (required) and symbol (best effort) of an ERC-20 token; no token there is "not found". */
export async function readToken(connection: Connection, address: Address): Promise<TokenInfo> {
  let decimals: number;
  try {
    decimals = await connection.publicClient.readContract({ address, abi: erc20Abi, functionName: "decimals" });
  } catch (error) {
    const code = await connection.publicClient.getCode({ address });
    if (code === undefined || code === "0x") throw notFound(`no token contract at ${address} on chain ${connection.chainId}`, { token: address });
    throw error;
  }
  let symbol: string | null = null;
  try {
    symbol = await connection.publicClient.readContract({ address, abi: erc20Abi, functionName: "symbol" });
  } catch {
    // symbol() is optional in ERC-20
  }
  return { address, decimals, symbol };
}

/** Token info per address, read once each. */
export function tokenCache(connection: Connection): (address: Address) => Promise<TokenInfo> {
  const cache = new Map<string, Promise<TokenInfo>>();
  return (address) => {
    let entry = cache.get(address.toLowerCase());
    if (entry === undefined) cache.set(address.toLowerCase(), (entry = readToken(connection, address)));
    return entry;
  };
}

/** The channel on-chain; exit 5 when the escrow never opened it. */
export async function requireChannel(connection: EscrowConnection, channelId: Hex): Promise<Channel> {
  const channel = await getChannel({ client: connection.publicClient, escrow: connection.escrow, channelId });
  if (channel === null) {
    throw notFound(`channel ${channelId} not found on escrow ${connection.escrow} (chain ${connection.chainId})`, {
      channelId,
      escrow: connection.escrow,
    });
  }
  return channel;
}

export async function readGracePeriod(connection: EscrowConnection): Promise<bigint> {
  return BigInt(await connection.publicClient.readContract({ address: connection.escrow, abi: tollgateEscrowAbi, functionName: "CLOSE_GRACE_PERIOD" }));
}

export type ChannelStatus = "open" | "closing" | "finalized";

export function channelStatus(channel: Channel): ChannelStatus {
  if (channel.finalized) return "finalized";
  return channel.closeRequestedAt > 0n ? "closing" : "open";
}
