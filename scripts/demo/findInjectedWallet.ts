// The browser's own wallet, if it has one: EIP-6963 announcements first (wallets that coexist), then the
// legacy `window.ethereum`. And connecting it: its account, on the demo's chain.
import { type Address, type Chain, type EIP1193Provider, numberToHex } from "viem";

export type Wallet = { name: string; provider: EIP1193Provider };

/** The first wallet announced over EIP-6963, else `window.ethereum`; undefined when the browser has neither. */
export async function findInjectedWallet(): Promise<Wallet | undefined> {
  const announced: Wallet[] = [];
  const onAnnounce = (event: Event) => {
    const { info, provider } = (event as CustomEvent<{ info: { name: string }; provider: EIP1193Provider }>).detail;
    announced.push({ name: info.name, provider });
  };
  window.addEventListener("eip6963:announceProvider", onAnnounce);
  window.dispatchEvent(new Event("eip6963:requestProvider"));
  // Wallets answer the request at once; a moment more lets one that loads late announce itself too.
  await new Promise((resolve) => setTimeout(resolve, 100));
  window.removeEventListener("eip6963:announceProvider", onAnnounce);
  if (announced[0]) return announced[0];
  const injected = (window as { ethereum?: EIP1193Provider }).ethereum;
  return injected && { name: "Browser wallet (window.ethereum)", provider: injected };
}

export type ConnectWalletParameters = { provider: EIP1193Provider; chain: Chain; prompt: boolean };

/**
 * The wallet's account, on `chain`: asked for (the wallet's prompt) when `prompt`, else only if the page is
 * already connected (as after a reload); undefined when it is not.
 */
export async function connectWallet({ provider, chain, prompt }: ConnectWalletParameters): Promise<Address | undefined> {
  const [address] = await provider.request({ method: prompt ? "eth_requestAccounts" : "eth_accounts" });
  if (address === undefined) return undefined;
  if (Number(await provider.request({ method: "eth_chainId" })) !== chain.id) await switchChain(provider, chain);
  return address;
}

async function switchChain(provider: EIP1193Provider, chain: Chain) {
  const chainId = numberToHex(chain.id);
  try {
    await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId }] });
  } catch (error) {
    // 4902: the wallet does not know the chain; add the local chain, reached through the demo's pass-through.
    if ((error as { code?: number }).code !== 4902) throw error;
    await provider.request({
      method: "wallet_addEthereumChain",
      params: [{ chainId, chainName: chain.name, nativeCurrency: chain.nativeCurrency, rpcUrls: [...chain.rpcUrls.default.http] }],
    });
  }
}
