// Runs in the gallery page: the SDK's paying fetch with a wallet — the browser's own (EIP-6963 or
// window.ethereum) or the built-in demo wallet — connected on "Connect" or on the first "Buy". The wallet
// funds each channel once (approve and open); a session key signs every voucher, so a photo asks the
// wallet nothing. The channel, its key and the transaction list are kept in localStorage: a reload resumes them.
import { createPublicClient, createWalletClient, custom, defineChain, erc20Abi, formatUnits, type Hex, http } from "viem";
import { type ClientChannel, createBrowserChannelStore, createPayingFetch, type PayingFetch } from "../../sdk/src/client/index.js";
import { createDemoWallet } from "./createDemoWallet.js";
import { createTransactionList } from "./createTransactionList.js";
import { connectWallet, findInjectedWallet } from "./findInjectedWallet.js";
import { functionName } from "./functionName.js";

type Config = { chainId: number; escrow: Hex; currency: Hex; price: string; photoPath: string };

const config = (await (await fetch("/config.json")).json()) as Config;
const rpc = `${location.origin}/rpc`;
const chain = defineChain({ id: config.chainId, name: "tollgate demo (local)", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [rpc] } } });
const publicClient = createPublicClient({ chain, transport: http(rpc) });
const element = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const button = (id: string) => element<HTMLButtonElement>(id);
const usd = (amount: bigint) => `$${formatUnits(amount, 6)}`;

const wallet = (await findInjectedWallet()) ?? { name: "Demo wallet (the local node's test account)", provider: createDemoWallet({ url: rpc }) };
let buyer: { address: Hex; pay: PayingFetch; transactions: ReturnType<typeof createTransactionList>; balance(): Promise<void> } | undefined;
let channel: ClientChannel | undefined;
let busy = false;

element("wallet").textContent = wallet.name;
// Another account chosen in the wallet: start over as it (the store keeps each payer's channels apart).
wallet.provider.on("accountsChanged", (accounts) => {
  if (buyer && accounts[0]?.toLowerCase() !== buyer.address.toLowerCase()) location.reload();
});
element("price").textContent = usd(BigInt(config.price));

function render(update: ClientChannel) {
  channel = update;
  element("deposit").textContent = usd(channel.deposit);
  element("spent").textContent = usd(channel.spent);
  element("remaining").textContent = usd(channel.deposit - channel.spent);
  element("channel").textContent = channel.channelId;
  element("state").textContent = channel.status;
  updateButtons();
}

function updateButtons() {
  button("connect").disabled = busy || buyer !== undefined;
  button("connect").textContent = buyer ? "Connected" : "Connect";
  button("buy").disabled = busy;
  button("close").disabled = busy || channel?.status !== "open";
}

/** Connects the wallet (its prompt when `prompt`) and builds the paying fetch for its account. */
async function connect(prompt: boolean) {
  const address = await connectWallet({ provider: wallet.provider, chain, prompt });
  if (address === undefined) return;
  const transactions = createTransactionList({ element: element("transactions"), storageKey: `tollgate-demo:transactions:${chain.id}:${address.toLowerCase()}` });
  // The wallet's own requests, through its provider; each transaction it sends is listed.
  const walletClient = createWalletClient({
    account: address,
    chain,
    transport: custom({
      async request(args: { method: string; params?: unknown }) {
        const result = await wallet.provider.request(args as never);
        if (args.method === "eth_sendTransaction") {
          const [{ data }] = args.params as [{ data?: Hex }];
          transactions.add({ label: `${(data && functionName(data)) ?? "transaction"} (by the buyer)`, hash: result as Hex });
        }
        return result;
      },
    }),
  });
  const pay = createPayingFetch({
    account: walletClient,
    chain,
    transport: http(rpc),
    maxDeposit: 5_000_000n,
    escrows: [config.escrow],
    store: createBrowserChannelStore(),
    onChannelUpdate: render,
  });
  buyer = {
    address,
    pay,
    transactions,
    async balance() {
      const balance = await publicClient.readContract({ address: config.currency, abi: erc20Abi, functionName: "balanceOf", args: [address] });
      element("balance").textContent = usd(balance);
    },
  };
  element("address").textContent = address;
  await buyer.balance();
  // After a reload: the channel this page left open, resumed from the store with its session key.
  const resumed = (await pay.channels()).filter(({ origin }) => origin === location.origin).sort((a, b) => b.updatedAt - a.updatedAt)[0];
  if (resumed) render(resumed);
}

async function act(label: string, task: () => Promise<void>) {
  busy = true;
  updateButtons();
  element("status").textContent = label;
  try {
    await task();
  } catch (error) {
    element("status").textContent = `Error: ${(error as Error).message}`;
  } finally {
    busy = false;
    updateButtons();
  }
}

button("connect").addEventListener("click", () =>
  act("Connecting the wallet…", async () => {
    await connect(true);
    element("status").textContent = "Connected";
  }),
);

button("buy").addEventListener("click", () =>
  act("Paying…", async () => {
    if (!buyer) await connect(true);
    if (!buyer) throw new Error("The wallet gave no account");
    const response = await buyer.pay(config.photoPath);
    if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
    const photo = (await response.json()) as { id: number; title: string; url: string };
    const figure = document.createElement("figure");
    figure.append(Object.assign(document.createElement("img"), { alt: "", src: photo.url }), Object.assign(document.createElement("figcaption"), { textContent: `#${photo.id} ${photo.title}` }));
    element("photos").prepend(figure);
    await buyer.balance();
    element("status").textContent = `Bought photo #${photo.id}`;
  }),
);

button("close").addEventListener("click", () =>
  act("Closing the channel on-chain…", async () => {
    const result = await buyer!.pay.close({ url: `${location.origin}${config.photoPath}` });
    if (result.txHash) buyer!.transactions.add({ label: "close (by the seller)", hash: result.txHash });
    await buyer!.balance();
    element("status").textContent = `Closed: paid ${usd(result.settled)}, refunded ${usd(result.refund)} (tx ${result.txHash?.slice(0, 10)}…)`;
  }),
);

await act("Loading…", async () => {
  await connect(false);
  element("status").textContent = "Ready";
});
