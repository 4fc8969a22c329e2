import { useCallback, useMemo, useState, useSyncExternalStore } from "react";
import type { ClientChannel } from "../client/ClientChannel.js";
import { type CloseResult, type CloseTarget, createPayingFetch, type PayingFetch, type PayingFetchParameters } from "../client/createPayingFetch.js";
import type { OneTimePayment } from "../client/methods/OneTimePayment.js";

/**
 * createPayingFetch's parameters. The paying fetch is created again only when one of them changes
 * (compared one by one, by identity): keep objects (account or wallet client, chain, transport, store,
 * per-currency records) the same across renders, e.g. module constants or `useMemo`. `onChannelUpdate`
 * is left out: `channels` is live state.
 */
export type UsePayingFetchParameters = Omit<PayingFetchParameters, "onChannelUpdate">;

export type UsePayingFetchReturnType = {
  /** The paying fetch (createPayingFetch's), the same across renders until the parameters change. */
  pay: PayingFetch;
  /** True while a paid request, its channel's open or top-up, or a voucher a stream asked for is in flight. */
  isPaying: boolean;
  /** True while a close (or a forced close's transaction) is in flight. */
  isClosing: boolean;
  /** What sellers charged on channels (their receipts) plus one-time payments sent: `pay.totalSpent()`. */
  totalSpent: bigint;
  /** What this client signed away, the most it can be charged: `pay.totalAuthorized()`. */
  totalAuthorized: bigint;
  /** This payer's channels, without session keys. */
  channels: readonly ClientChannel[];
  /** One-time payments (charge, x402). */
  payments: readonly OneTimePayment[];
  /** What the latest call to settle threw (a `PaymentCapError`, an `UntrustedServerError`, …); undefined once a later call succeeds. */
  error: Error | undefined;
  /** Closes the target's channel cooperatively, or every open channel when no target is given; resolves with each close's result. */
  close(target?: CloseTarget): Promise<CloseResult[]>;
};

/**
 * A paying fetch for a React component, with its state live: the component renders again when a payment
 * starts or ends, a channel opens, a receipt comes in or a channel closes (through the fetch's own
 * `subscribe`). Unmounting stops listening; calls still in flight finish, their vouchers kept in the store.
 */
export function usePayingFetch(parameters: UsePayingFetchParameters): UsePayingFetchReturnType {
  // Parameters written inline are a new object on every render: kept while their values are the same.
  const [stable, setStable] = useState(parameters);
  if (!sameParameters(stable, parameters)) setStable(parameters);
  const pay = useMemo(() => createPayingFetch(stable), [stable]);
  const state = useSyncExternalStore(pay.subscribe, pay.getState, pay.getState);
  const close = useCallback(
    async (target?: CloseTarget) =>
      target ? [await pay.close(target)] : Promise.all((await pay.channels()).filter(({ status }) => status === "open").map(({ channelId }) => pay.close({ channelId }))),
    [pay],
  );
  return useMemo(
    () => ({
      pay,
      isPaying: state.paying > 0,
      isClosing: state.closing > 0,
      totalSpent: state.totalSpent,
      totalAuthorized: state.totalAuthorized,
      channels: state.channels,
      payments: state.payments,
      error: state.error,
      close,
    }),
    [pay, state, close],
  );
}

function sameParameters(a: UsePayingFetchParameters, b: UsePayingFetchParameters): boolean {
  const keys = Object.keys(a) as (keyof UsePayingFetchParameters)[];
  return keys.length === Object.keys(b).length && keys.every((key) => key in b && Object.is(a[key], b[key]));
}
