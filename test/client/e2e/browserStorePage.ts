// Bundled into the browser-store test's page (esbuild), where it runs in Chromium: a paying fetch whose
// payer is a JSON-RPC account (the node's unlocked test account behind the page's /rpc pass-through) and
// whose channels live in the page's localStorage. Loading it in Node only defines the global below.
import { type Address, createWalletClient, defineChain, http } from "viem";
import { createBrowserChannelStore, createPayingFetch, type PayingFetch } from "../../../sdk/src/client/index.js";

export type PageConfig = { chainId: number; escrow: Address; currency: Address; payer: Address; path: string };

let pay: PayingFetch | undefined;

function payingFetch({ chainId, escrow, currency, payer }: PageConfig): PayingFetch {
  const rpc = `${location.origin}/rpc`;
  const chain = defineChain({ id: chainId, name: "Local chain", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [rpc] } } });
  const wallet = createWalletClient({ account: payer, chain, transport: http(rpc) });
  return createPayingFetch({ account: wallet, chain, escrows: [escrow], currencies: [currency], maxDeposit: 10_000_000n, store: createBrowserChannelStore() });
}

/** Shows the client's channels on the page; returns the records in localStorage (session keys included). */
async function show(config: PageConfig) {
  const channels = await (pay ??= payingFetch(config)).channels();
  document.body.textContent = JSON.stringify(channels, (_key, value) => (typeof value === "bigint" ? value.toString() : value), 2);
  return Object.keys(localStorage).map((name) => JSON.parse(localStorage.getItem(name)!, (_key, value: unknown) => (typeof value === "object" && value !== null && "$bigint" in value ? (value as { $bigint: string }).$bigint : value)) as Record<string, string>);
}

Object.assign(globalThis, {
  tollgateTest: {
    async buy(config: PageConfig) {
      const response = await (pay ??= payingFetch(config))(config.path);
      await show(config);
      return { status: response.status, body: await response.text() };
    },
    async close(config: PageConfig) {
      const { settled } = await (pay ??= payingFetch(config)).close({ url: new URL(config.path, location.href) });
      await show(config);
      return settled.toString();
    },
    show,
  },
});
