// Buys photos with x402 `exact` through the real x402 client (@x402/fetch with @x402/evm's exact
// scheme, v2): one EIP-3009 authorization per photo, each settled on-chain by the seller before the
// photo comes back. tollgate's own client has no option to pay one-time only (it prefers the session).
import { x402Client } from "@x402/core/client";
import { decodePaymentResponseHeader } from "@x402/core/http";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import type { Address, Hex, LocalAccount } from "viem";
import type { Photo } from "./photos.js";

export type BuyWithX402Parameters = {
  account: LocalAccount;
  chainId: number;
  currency: Address;
  /** The most one photo may cost, base units: the client's spend control. */
  maxPrice: bigint;
  url: string;
  count: number;
};

export type BuyWithX402ReturnType = { photo: Photo; transaction: Hex }[];

export async function buyWithX402({ account, chainId, currency, maxPrice, url, count }: BuyWithX402Parameters): Promise<BuyWithX402ReturnType> {
  const client = x402Client.fromConfig({
    schemes: [{ network: "eip155:*", client: new ExactEvmScheme(account) }],
    spendControls: { allowedAssets: [{ network: `eip155:${chainId}`, asset: currency, maxAmountPerPayment: maxPrice.toString() }] },
  });
  const pay = wrapFetchWithPayment(fetch, client);
  const bought: BuyWithX402ReturnType = [];
  for (let i = 0; i < count; i++) {
    const response = await pay(url);
    if (!response.ok) throw new Error(`x402 photo request failed: ${response.status} ${await response.text()}`);
    const settled = decodePaymentResponseHeader(response.headers.get("payment-response")!);
    bought.push({ photo: (await response.json()) as Photo, transaction: settled.transaction as Hex });
  }
  return bought;
}
