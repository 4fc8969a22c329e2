// Runs in the gallery page: the SDK's paying fetch, with a well-known local test key, buying one photo
// per click and showing the channel's deposit, spent and remaining balance as they change.
import { defineChain, formatUnits, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { ClientChannel } from "../../sdk/src/client/ClientChannel.js";
import { createPayingFetch } from "../../sdk/src/client/createPayingFetch.js";

type Config = { chainId: number; escrow: `0x${string}`; price: string; photoPath: string; browserKey: `0x${string}` };

const config = (await (await fetch("/config.json")).json()) as Config;
const rpc = `${location.origin}/rpc`;
const chain = defineChain({ id: config.chainId, name: "Local chain", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [rpc] } } });
const element = (id: string) => document.getElementById(id)!;
const usd = (amount: bigint) => `$${formatUnits(amount, 6)}`;

function render(channel: ClientChannel) {
  element("deposit").textContent = usd(channel.deposit);
  element("spent").textContent = usd(channel.spent);
  element("remaining").textContent = usd(channel.deposit - channel.spent);
  element("channel").textContent = channel.channelId;
  element("state").textContent = channel.status;
}

const pay = createPayingFetch({
  account: privateKeyToAccount(config.browserKey),
  chain,
  transport: http(rpc),
  maxDeposit: 5_000_000n,
  escrows: [config.escrow],
  onChannelUpdate: render,
});

element("price").textContent = usd(BigInt(config.price));

async function act(label: string, task: () => Promise<void>) {
  const buttons = document.querySelectorAll("button");
  buttons.forEach((button) => (button.disabled = true));
  element("status").textContent = label;
  try {
    await task();
  } catch (error) {
    element("status").textContent = `Error: ${(error as Error).message}`;
  } finally {
    buttons.forEach((button) => (button.disabled = false));
  }
}

element("buy").addEventListener("click", () =>
  act("Paying…", async () => {
    const response = await pay(config.photoPath);
    if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
    const photo = (await response.json()) as { id: number; title: string; url: string };
    const figure = document.createElement("figure");
    figure.innerHTML = `<img alt="" src="${photo.url}"><figcaption></figcaption>`;
    figure.querySelector("figcaption")!.textContent = `#${photo.id} ${photo.title}`;
    element("photos").prepend(figure);
    element("status").textContent = `Bought photo #${photo.id}`;
  }),
);

element("close").addEventListener("click", () =>
  act("Closing the channel on-chain…", async () => {
    const result = await pay.close({ url: `${location.origin}${config.photoPath}` });
    element("status").textContent = `Closed: paid ${usd(result.settled)}, refunded ${usd(result.refund)} (tx ${result.txHash?.slice(0, 10)}…)`;
  }),
);

element("status").textContent = "Ready";
