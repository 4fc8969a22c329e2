// The three buyers: tollgate's paying client (it prefers the session when offered), and the real
// third-party clients for the one-time methods — mppx 0.11's `evm` charge client and @x402/fetch with
// @x402/evm's `exact` scheme (x402 v2). Each pays from a fresh account.
import { x402Client } from "@x402/core/client";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import { Mppx } from "mppx/client";
import { charge as mppxCharge } from "mppx/evm/client";
import { http, type LocalAccount } from "viem";
import type { LocalChain } from "../../scripts/localChain.js";
import { getTokenDomain } from "../../sdk/src/authorization/getTokenDomain.js";
import { createPayingFetch } from "../../sdk/src/client/index.js";

export type Method = "session" | "charge" | "x402";

export type Buyer = {
  pay: (url: string) => Promise<Response>;
  /** Ends the buyer's business with the route: the session's cooperative close; nothing for one-time payments. */
  finish: (url: string) => Promise<void>;
};

export type CreateBuyerParameters = {
  chain: LocalChain;
  method: Method;
  account: LocalAccount;
  /** The most one payment may move: the session's deposit, or the price. */
  maxAmount: bigint;
};

export async function createBuyer({ chain, method, account, maxAmount }: CreateBuyerParameters): Promise<Buyer> {
  if (method === "session") {
    const pay = createPayingFetch({ account, chain: chain.chain, transport: http(chain.rpcUrl), maxDeposit: maxAmount, escrows: [chain.escrow] });
    return { pay: (url) => pay(url), finish: async (url) => void (await pay.close({ url })) };
  }
  if (method === "charge") {
    const { name, version } = await getTokenDomain({ client: chain.publicClient, token: chain.token });
    const mppx = Mppx.create({ polyfill: false, methods: [mppxCharge({ account, authorization: { name, version } })] });
    return { pay: (url) => mppx.fetch(url), finish: async () => {} };
  }
  const client = x402Client.fromConfig({
    schemes: [{ network: "eip155:*", client: new ExactEvmScheme(account) }],
    spendControls: { allowedAssets: [{ network: `eip155:${chain.chain.id}`, asset: chain.token, maxAmountPerPayment: maxAmount.toString() }] },
  });
  const pay = wrapFetchWithPayment(fetch, client);
  return { pay: (url) => pay(url), finish: async () => {} };
}
