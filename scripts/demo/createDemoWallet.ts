// The page's built-in wallet when the browser has none: a minimal EIP-1193 provider that forwards each
// request to the demo server's JSON-RPC pass-through, where the local node holds the test account
// unlocked and signs (the page never sees a key). Like a browser wallet it shows its account only once
// connected (`eth_requestAccounts`), and stays connected across reloads.
import type { EIP1193Provider } from "viem";

export type CreateDemoWalletParameters = {
  /** The pass-through's URL (the gallery's /rpc). */
  url: string;
  /** Where it remembers being connected; defaults to `localStorage`. */
  storage?: Pick<Storage, "getItem" | "setItem">;
};

const CONNECTED = "tollgate-demo:demo-wallet-connected";

export function createDemoWallet({ url, storage = localStorage }: CreateDemoWalletParameters): EIP1193Provider {
  let id = 0;
  async function send(method: string, params: unknown): Promise<unknown> {
    const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }) });
    const body = (await response.json()) as { result?: unknown; error?: { code: number; message: string; data?: unknown } };
    // EIP-1193: a provider error carries the JSON-RPC code, which viem maps to its typed errors.
    if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code, data: body.error.data });
    return body.result;
  }
  const provider = {
    async request({ method, params }: { method: string; params?: unknown }) {
      if (method === "eth_accounts" && storage.getItem(CONNECTED) === null) return [];
      const result = await send(method, params);
      if (method === "eth_requestAccounts") storage.setItem(CONNECTED, "true");
      return result;
    },
    // It emits no events: its account and chain never change.
    on: () => provider,
    removeListener: () => provider,
  };
  return provider as unknown as EIP1193Provider;
}
