import type { Account, Address, WalletClient } from "viem";
import { ConfigurationError } from "../errors/ConfigurationError.js";
import { UsageRequestError } from "../errors/UsageRequestError.js";
import { formatUsageAuthorization, getUsageTypedData, type UsageReportJson, type UsageRequest, type UsageTotalJson } from "../protocol/usage.js";

export type FetchUsageParameters = {
  /** The seller's usage endpoint (where it mounted `createUsageEndpoint`). */
  url: string | URL;
  /**
   * Signs the request: the payer's viem account, or a wallet client carrying it (a browser wallet, a
   * contract wallet behind its provider). A channel's session key may sign instead, with `payer` set.
   */
  wallet: Account | WalletClient;
  /** Whose usage to read when `wallet` is a session key; defaults to the wallet's address. */
  payer?: Address;
  fetch?: typeof fetch;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
};

export type UsageTotal = { amount: bigint; units: bigint; charges: number; payments: number };

/** A payer's usage at one seller, amounts in the currency's base units. */
export type FetchUsageReturnType = {
  payer: Address;
  currency: Address;
  chainId: number;
  total: UsageTotal;
  month: UsageTotal & { period: string };
  routes: (UsageTotal & { route: string })[];
  unitTypes: (UsageTotal & { unitType: string })[];
  channels: { channelId: `0x${string}`; status: "open" | "closing" | "closed"; deposit: bigint; acceptedCumulative: bigint; spent: bigint; settledOnChain: bigint }[];
};

/**
 * Reads the payer's own usage from a seller's usage endpoint: asks once unsigned to learn the realm and
 * chain to sign for (the endpoint's 401), signs an EIP-712 `UsageRequest` for that realm, the URL's
 * origin and now, and asks again with it. Throws UsageRequestError when the endpoint refuses.
 */
export async function fetchUsage({ url, wallet, payer, fetch: fetchFn = globalThis.fetch, now = Date.now }: FetchUsageParameters): Promise<FetchUsageReturnType> {
  const target = new URL(url);
  const { realm, chainId } = await readChallenge(await send(fetchFn, target));
  const account = wallet.type === "walletClient" ? (wallet as WalletClient).account : (wallet as Account);
  if (account === undefined) throw new ConfigurationError("wallet", "The wallet client has no account: connect one and pass the client with it");
  const request: UsageRequest = { payer: payer ?? account.address, realm, origin: target.origin, issuedAt: BigInt(Math.floor(now() / 1000)) };
  const typedData = getUsageTypedData({ chainId, request });
  let signature;
  if (wallet.type === "walletClient") signature = await (wallet as WalletClient).signTypedData({ account, ...typedData });
  else if (account.signTypedData !== undefined) signature = await account.signTypedData(typedData);
  else throw new ConfigurationError("wallet", "A JSON-RPC account signs through its wallet client: pass the wallet client");
  const signer = request.payer === account.address ? {} : { signer: account.address };
  const response = await send(fetchFn, target, formatUsageAuthorization({ ...request, ...signer, signature }));
  if (response.status !== 200) throw await refusal(response);
  return parseReport((await response.json()) as UsageReportJson);
}

async function send(fetchFn: typeof fetch, url: URL, authorization?: string): Promise<Response> {
  try {
    return await fetchFn(url, { headers: authorization === undefined ? {} : { authorization } });
  } catch (cause) {
    throw new UsageRequestError(`The usage endpoint ${url.href} could not be reached`, { status: 0, cause });
  }
}

async function readChallenge(response: Response): Promise<{ realm: string; chainId: number }> {
  if (response.status !== 401) throw await refusal(response);
  const body = (await response.clone().json().catch(() => undefined)) as { realm?: unknown; chainId?: unknown } | undefined;
  if (typeof body?.realm !== "string" || !Number.isSafeInteger(body.chainId) || (body.chainId as number) <= 0) {
    throw new UsageRequestError("The usage endpoint's 401 names no realm and chain to sign for", { status: 401 });
  }
  return { realm: body.realm, chainId: body.chainId as number };
}

async function refusal(response: Response): Promise<UsageRequestError> {
  const problem = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  const detail = typeof problem?.detail === "string" ? `: ${problem.detail}` : "";
  return new UsageRequestError(`The usage endpoint answered ${response.status}${detail}`, { status: response.status, problem });
}

function parseReport(json: UsageReportJson): FetchUsageReturnType {
  const total = ({ amount, units, charges, payments }: UsageTotalJson): UsageTotal => ({ amount: BigInt(amount), units: BigInt(units), charges, payments });
  try {
    return {
      payer: json.payer,
      currency: json.currency,
      chainId: json.chainId,
      total: total(json.total),
      month: { period: json.month.period, ...total(json.month) },
      routes: json.routes.map((row) => ({ route: row.route, ...total(row) })),
      unitTypes: json.unitTypes.map((row) => ({ unitType: row.unitType, ...total(row) })),
      channels: json.channels.map((channel) => ({
        ...channel,
        deposit: BigInt(channel.deposit),
        acceptedCumulative: BigInt(channel.acceptedCumulative),
        spent: BigInt(channel.spent),
        settledOnChain: BigInt(channel.settledOnChain),
      })),
    };
  } catch (cause) {
    throw new UsageRequestError("The usage endpoint's answer is not a usage report", { status: 200, cause });
  }
}
