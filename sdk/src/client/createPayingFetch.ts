import { type Address, createPublicClient, type Hex, http, isAddressEqual } from "viem";
import { getTokenDomain } from "../authorization/getTokenDomain.js";
import type { TokenDomain } from "../authorization/TokenDomain.js";
import { InvalidValueError } from "../errors/InvalidValueError.js";
import { UntrustedServerError } from "../errors/UntrustedServerError.js";
import { defaultPollingInterval } from "../transactions/defaultPollingInterval.js";
import { type ClientChannel, createMemoryChannelStore, withoutSessionKey } from "./ClientChannel.js";
import { createExclusive } from "./createExclusive.js";
import { createPayingFetchState } from "./createPayingFetchState.js";
import { createOwnChannelStore } from "./createOwnChannelStore.js";
import { createPaymentCaps } from "./createPaymentCaps.js";
import { createSpendingLimits } from "./createSpendingLimits.js";
import { createMemoryPaymentStore } from "./methods/OneTimePayment.js";
import type { OneTimeOffer } from "./methods/OneTimeOffer.js";
import { payOneTime } from "./methods/payOneTime.js";
import { createSessionPayer } from "./methods/session/createSessionPayer.js";
import type { PayingContext } from "./PayingContext.js";
import type { CloseTarget, PayingFetch, PayingFetchParameters } from "./PayingFetch.js";
import { chooseOffer, readOffers } from "./readOffers.js";
import { toPayingWallet } from "./toPayingWallet.js";

export type { CloseResult } from "./closeCooperatively.js";
export type { CloseTarget, PayingFetch, PayingFetchParameters } from "./PayingFetch.js";
export type { PayingFetchState } from "./createPayingFetchState.js";

/**
 * A drop-in `fetch` that pays. On a 402 it reads every offer (an `evm` session, an MPP `evm` charge,
 * x402 `exact` v2 or v1), refuses those above its caps, and pays by one rule (see chooseOffer): a
 * session when one is offered and within the caps, since its later requests cost no transaction (each
 * carries one voucher; it tops up, follows streams and closes on request); otherwise one EIP-3009
 * transfer for this request. What a seller asks for is a claim: it is paid only within the caps.
 */
export function createPayingFetch(parameters: PayingFetchParameters): PayingFetch {
  const { chain, onChannelUpdate = () => {}, maxUnitsPerRequest = 1n, maxUnitsPerStream = 1_000n, prepayUnits = 10n, prepayRequests = 1n, maxPaymentTimeout = 600 } = parameters;
  if (prepayUnits < 1n) throw new InvalidValueError("amount", `prepayUnits must be at least 1, not ${prepayUnits}`);
  if (prepayRequests < 1n) throw new InvalidValueError("amount", `prepayRequests must be at least 1, not ${prepayRequests}`);
  const baseFetch = parameters.fetch ?? globalThis.fetch.bind(globalThis);
  const transport = parameters.transport ?? http();
  const pollingInterval = parameters.pollingInterval ?? defaultPollingInterval(chain);
  const publicClient = createPublicClient({ chain, transport, pollingInterval });
  const { signer: account, client: walletClient } = toPayingWallet({ account: parameters.account, chain, transport, pollingInterval });
  const caps = createPaymentCaps(parameters);
  const store = createOwnChannelStore({ store: parameters.store ?? createMemoryChannelStore(), payer: account.address });
  const payments = parameters.payments ?? createMemoryPaymentStore();
  const exclusive = createExclusive();
  const context: PayingContext = {
    account,
    sessionKeys: parameters.sessionKeys ?? true,
    chain,
    publicClient,
    transactionOptions: { client: walletClient, publicClient },
    store,
    limits: createSpendingLimits({ store, payments, caps, exclusive }),
    exclusive,
    // Lock key of the payer's transactions (channel keys all contain ':', this one cannot clash).
    transacting: (task) => exclusive("transactions", task),
    async save({ sessionKey, ...channel }) {
      // A channel no longer open signs no more vouchers: its session key goes (see ClientChannel.sessionKey).
      const updated = { ...channel, ...(sessionKey && channel.status === "open" ? { sessionKey } : {}), updatedAt: Date.now() };
      await store.put(updated);
      onChannelUpdate(withoutSessionKey(updated));
      void state.changed();
      return updated;
    },
    trackPayment: (task) => counted("paying", task),
    authorizationTtl: parameters.authorizationTtl ?? 3_600,
  };
  const spentOn = async (stored: ClientChannel[]) => stored.reduce((sum, channel) => sum + channel.spent, 0n) + (await context.limits.paid());
  const channels = async () => (await store.list()).map(withoutSessionKey);
  const totalSpent = async () => spentOn(await store.list());
  const state = createPayingFetchState({
    // Runs after every paid request while someone subscribes: one listing of the channel store serves both the channels and the spend.
    read: async () => {
      const stored = await store.list();
      return { channels: stored.map(withoutSessionKey), payments: await payments.list(), totalSpent: await spentOn(stored), totalAuthorized: await context.limits.authorized() };
    },
  });
  /** A call counted in flight from its start (unlike a request, which counts once it decides to pay). */
  function counted<T>(kind: "paying" | "closing", task: () => Promise<T>) {
    return state.track(kind, async (begin) => {
      begin();
      return task();
    });
  }
  const session = createSessionPayer({ context, caps, fetch: baseFetch, maxUnitsPerRequest, maxUnitsPerStream, prepayUnits, prepayRequests });
  /** Token domains as the chain states them, read once per token (a failed read is not kept). */
  const domains = new Map<Address, Promise<TokenDomain>>();
  const tokenDomain = (token: Address) => {
    let domain = domains.get(token);
    if (!domain) {
      domain = getTokenDomain({ client: publicClient, token });
      domains.set(token, domain);
      domain.catch(() => domains.delete(token));
    }
    return domain;
  };

  /** One request; `begin()` marks the moment it decides to pay (see PayingFetchState.paying). */
  async function payingFetch(input: string | URL | Request, init: RequestInit | undefined, begin: () => void): Promise<Response> {
    const original = new Request(input, init);
    // Read once, so that every retry sends the same body.
    const body = original.body === null ? undefined : await original.arrayBuffer();
    const url = new URL(original.url);
    const send = (credential?: { name: string; value: string }) => {
      const headers = new Headers(original.headers);
      if (credential) headers.set(credential.name, credential.value);
      return baseFetch(new Request(original.url, { method: original.method, headers, body: body ?? null, signal: original.signal, redirect: original.redirect }));
    };
    const sendSession = (authorization: string) => send({ name: "authorization", value: authorization });

    const cached = session.cachedOffer(url);
    if (cached) {
      begin();
      return session.pay({ offer: cached, url, send: sendSession, response: undefined });
    }
    const response = await send();
    if (response.status !== 402) return response;
    const chosen = chooseOffer(await readOffers({ response, caps, payer: account.address, origin: url.origin }));
    if (!chosen) return response;
    begin();
    if (chosen.kind === "session") return session.pay({ offer: chosen.offer, url, send: sendSession, response });
    const paid = await payOneTime({ context, offer: chosen.offer, url: url.href, payments, maxPaymentTimeout, tokenDomain, send });
    if (paid.status === 402) await assertSameTerms(chosen.offer, paid, url);
    return paid;
  }

  /**
   * One request gets at most one one-time payment: a 402 after it goes back to the caller. A seller that
   * answers the payment by asking for a different transfer (another recipient, token or amount) is
   * changing its terms after being paid, and is told so.
   */
  async function assertSameTerms(paid: OneTimeOffer, answer: Response, url: URL) {
    const offers = await readOffers({ response: answer, caps, payer: account.address, origin: url.origin }).catch(() => []);
    for (const entry of offers) {
      if (entry instanceof Error || entry.kind !== "oneTime" || entry.offer.method !== paid.method) continue;
      const { recipient, currency, amount } = entry.offer;
      if (!isAddressEqual(recipient, paid.recipient) || !isAddressEqual(currency, paid.currency) || amount !== paid.amount) {
        throw new UntrustedServerError(`After a payment of ${paid.amount} to ${paid.recipient}, the seller asks for ${amount} to ${recipient}`);
      }
    }
  }

  const pay = (input: string | URL | Request, init?: RequestInit) => state.track("paying", (begin) => payingFetch(input, init, begin));
  return Object.assign(pay, {
    channels,
    payments: () => payments.list(),
    totalSpent,
    totalAuthorized: () => context.limits.authorized(),
    close: (target: CloseTarget) => counted("closing", () => session.close(target)),
    requestClose: (channelId: Hex) => counted("closing", () => session.requestClose(channelId)),
    withdraw: (channelId: Hex) => counted("closing", () => session.withdraw(channelId)),
    getState: state.getState,
    subscribe: state.subscribe,
  });
}
