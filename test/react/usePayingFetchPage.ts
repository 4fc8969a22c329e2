// Bundled into the hook test's page (esbuild), where it runs in Chromium: usePayingFetch rendered with
// React Testing Library's renderHook in the page's DOM, paying through a JSON-RPC wallet (the node's
// unlocked test account behind the page's /rpc pass-through). The Node side drives it step by step through
// the global below and reads what the hook rendered. Loading it in Node only defines that global.
import { act, type RenderHookResult, renderHook, waitFor } from "@testing-library/react";
import { type Address, createWalletClient, defineChain, http } from "viem";
import type { PaymentCapError } from "../../sdk/src/client/index.js";
import { usePayingFetch, type UsePayingFetchParameters, type UsePayingFetchReturnType } from "../../sdk/src/react/index.js";

export type PageConfig = { chainId: number; escrow: Address; currency: Address; payer: Address; path: string };

/** What one render of the hook showed, in JSON. */
export type Shown = {
  isPaying: boolean;
  isClosing: boolean;
  totalSpent: string;
  totalAuthorized: string;
  channels: { channelId: string; status: string; spent: string; cumulativeAmount: string; deposit: string }[];
  payments: number;
  error: { name: string; cap?: string } | null;
};

/** A call started in the page, with how it ended once it did. */
type Call = Promise<{ outcome: unknown } | { thrown: string }>;

let hook: RenderHookResult<UsePayingFetchReturnType, UsePayingFetchParameters> | undefined;
let parameters: UsePayingFetchParameters | undefined;
let call: Call | undefined;
let config: PageConfig | undefined;
/** Every render, in order. */
const renders: Shown[] = [];

function show({ isPaying, isClosing, totalSpent, totalAuthorized, channels, payments, error }: UsePayingFetchReturnType): Shown {
  return {
    isPaying,
    isClosing,
    totalSpent: String(totalSpent),
    totalAuthorized: String(totalAuthorized),
    channels: channels.map(({ channelId, status, spent, cumulativeAmount, deposit }) => ({ channelId, status, spent: String(spent), cumulativeAmount: String(cumulativeAmount), deposit: String(deposit) })),
    payments: payments.length,
    error: error ? { name: error.name, ...("cap" in error ? { cap: (error as PaymentCapError).cap } : {}) } : null,
  };
}

const current = () => hook!.result.current;

/** Starts a call of the hook's functions inside act, without waiting for it. */
function start(task: () => Promise<unknown>) {
  act(() => {
    call = task().then(
      (outcome) => ({ outcome }),
      (error: Error) => ({ thrown: error.name }),
    );
  });
}

Object.assign(globalThis, {
  tollgateTest: {
    /** Renders the hook with a fresh memory store; `maxPricePerUnit` in base units. */
    async mount(options: PageConfig & { maxPricePerUnit?: string }) {
      config = options;
      const rpc = `${location.origin}/rpc`;
      const chain = defineChain({ id: config.chainId, name: "Local chain", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [rpc] } } });
      const account = createWalletClient({ account: config.payer, chain, transport: http(rpc) });
      parameters = { account, chain, escrows: [config.escrow], currencies: [config.currency], maxDeposit: 1_000_000n };
      hook = renderHook(
        (props) => {
          const result = usePayingFetch(props);
          renders.push(show(result));
          return result;
        },
        { initialProps: parameters },
      );
      return show(current());
    },
    /** Renders again with parameters equal to the last (`same`) or with another price cap; says whether `pay` was kept. */
    rerender(change: { maxPricePerUnit: string } | "same") {
      const before = current().pay;
      parameters = change === "same" ? { ...parameters! } : { ...parameters!, maxPricePerUnit: BigInt(change.maxPricePerUnit) };
      hook!.rerender(parameters);
      return { keptPay: current().pay === before, shown: show(current()) };
    },
    buy() {
      start(async () => (await current().pay(config!.path)).status);
    },
    close() {
      start(async () => (await current().close()).map(({ settled, refund, txHash }) => ({ settled: String(settled), refund: String(refund), txHash })));
    },
    /** Waits until the hook shows `isPaying` or `isClosing` (as `flag`) equal to `value`. */
    async waitUntil(flag: "isPaying" | "isClosing", value: boolean) {
      await waitFor(() => {
        if (current()[flag] !== value) throw new Error(`${flag} is not ${value}`);
      });
      return show(current());
    },
    /** Waits for the call started last to end (inside act, so its updates are rendered). */
    async finish() {
      let ended: Awaited<Call> | undefined;
      await act(async () => {
        ended = await call!;
      });
      return { ...ended!, shown: show(current()) };
    },
    renders: () => renders,
    unmount() {
      hook!.unmount();
      return document.body.innerHTML;
    },
  },
});
