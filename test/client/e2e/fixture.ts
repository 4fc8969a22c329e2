// Shared set-up of the paying client's end-to-end tests: a real gate served over HTTP on 127.0.0.1 in
// front of the real local chain (scripts/localChain.ts), and instruments that watch what the client
// signs, sends and puts on-chain.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Chain, type Hex, http, type LocalAccount } from "viem";
import { createPayingFetch, type PayingFetch, type PayingFetchParameters, PaymentCapError, type PaymentCap } from "../../../sdk/src/client/index.js";
import { parseCredential } from "../../../sdk/src/protocol/credential.js";
import { formatChallenge } from "../../../sdk/src/protocol/challenge.js";
import {
  createPaymentGate,
  meteredEventStream,
  type PaidHandler,
  type PaymentGate,
  type PaymentGateParameters,
  type SessionRoute,
  type SessionRouteParameters,
  type SessionStore,
} from "../../../sdk/src/server/index.js";
import { createSqliteStore } from "../../../sdk/src/server/sqlite.js";
import { toNodeHandler } from "../../../sdk/src/server/node.js";
import { type LocalChain, startLocalChain, type StartLocalChainParameters } from "../../../scripts/localChain.js";

export const PRICE = 10_000n; // $0.01 in 6-decimal mock USDC
export const USDC = 1_000_000n;
export const SECRET = "the client e2e tests' gate secret, 32+ bytes long";
export const SELLER = 1;

export type Seller = {
  gate: PaymentGate;
  route: SessionRoute;
  store: SessionStore;
  server: Server;
  url: string;
  /** Requests the handler served (after payment), with their bodies. */
  served: { method: string; body: string; channelId: Hex }[];
  stop(): Promise<void>;
};

export type StartSellerParameters = {
  chain: LocalChain;
  route?: Partial<SessionRouteParameters>;
  gate?: Partial<PaymentGateParameters>;
  /** The paid handler; defaults to a JSON photo. */
  handler?: PaidHandler;
  path?: string;
};

/** A paid handler streaming `tokens` tokens (`token-1`, …) metered at `price` each, from `seller()`'s gate. */
export function tokenStream(seller: () => Seller, { price, tokens, voucherTimeout = 15_000 }: { price: bigint; tokens: number; voucherTimeout?: number }): PaidHandler {
  return (request, payment) =>
    meteredEventStream({
      gate: seller().gate,
      payment: payment.method === "session" ? payment : assert.fail("a metered stream is paid from a session"),
      price,
      signal: request.signal,
      voucherTimeout,
      pollInterval: 50,
      source: (async function* () {
        for (let token = 1; token <= tokens; token++) yield `token-${token}`;
      })(),
    });
}

/** A real gate (SQLite store in a temp dir) behind node:http on a loopback port. */
export async function startSeller({ chain, route = {}, gate: gateOptions = {}, handler, path = "/api/photo" }: StartSellerParameters): Promise<Seller> {
  const store = createSqliteStore({ path: join(mkdtempSync(join(tmpdir(), "tollgate-client-e2e-")), "gate.db") });
  const gate = createPaymentGate({
    chain: chain.chain,
    transport: http(chain.rpcUrl),
    escrow: chain.escrow,
    currency: chain.token,
    account: chain.account(SELLER),
    store,
    secret: SECRET,
    // These sellers take sessions only (the default would add charge and x402, which the mock token
    // supports): the one-time methods' client tests choose them explicitly.
    methods: [],
    ...gateOptions,
  });
  const session = gate.session({ amount: PRICE, unitType: "photo", suggestedDeposit: 100n * PRICE, ...route });
  const served: Seller["served"] = [];
  const paid: PaidHandler =
    handler ??
    (async (request, payment) => {
      const body = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
      served.push({ method: request.method, body, channelId: payment.method === "session" ? payment.channelId : assert.fail("these sellers take sessions only") });
      return Response.json({ photo: served.length, body });
    });
  // A seller configured for another chain, escrow or currency fails the gate's start-up checks (its
  // `handle` answers 503); the hostile seller such tests play sends its 402s anyway, from the route.
  const misconfigured = await gate.ready().then(
    () => false,
    () => true,
  );
  const server = createServer(
    toNodeHandler((request) =>
      misconfigured && request.headers.get("authorization") === null
        ? new Response(null, { status: 402, headers: { "www-authenticate": formatChallenge(session.challenge()), "cache-control": "no-store" } })
        : session.handle(request, paid),
    ),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  let stopped = false;
  return {
    gate,
    route: session,
    store,
    server,
    url: `http://127.0.0.1:${port}${path}`,
    served,
    async stop() {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}

/** A buyer's paying fetch on the local chain, paying into its escrow only; `account` is any wallet createPayingFetch takes. */
export function buyer(chain: LocalChain, account: PayingFetchParameters["account"], options: Partial<PayingFetchParameters> = {}): PayingFetch {
  return createPayingFetch({ account, chain: chain.chain, transport: http(chain.rpcUrl), maxDeposit: 10n * USDC, escrows: [chain.escrow], ...options });
}

/** Wraps an account and counts what it signs (typed data: vouchers and EIP-3009 authorizations; transactions). */
export function countingAccount(account: LocalAccount): LocalAccount & { signed: { typedData: string[]; transactions: number; messages: number } } {
  const signed = { typedData: [] as string[], transactions: 0, messages: 0 };
  return {
    ...account,
    signed,
    async signTypedData(parameters) {
      signed.typedData.push(String((parameters as { primaryType: string }).primaryType));
      return account.signTypedData(parameters);
    },
    async signTransaction(...args: Parameters<LocalAccount["signTransaction"]>) {
      signed.transactions++;
      return account.signTransaction(...args);
    },
    async signMessage(parameters) {
      signed.messages++;
      return account.signMessage(parameters);
    },
  } as LocalAccount & { signed: typeof signed };
}

export type SentCredential = { method: string; url: string; action: string; type?: string; cumulativeAmount?: bigint; deposit?: boolean; challengeId: string; status?: number };

/** A fetch that records every Payment credential it carries (decoded) and the response status. */
export function recordingFetch(): typeof fetch & { sent: SentCredential[]; requests: number } {
  const sent: SentCredential[] = [];
  const recorder = Object.assign(
    async (input: string | URL | Request, init?: RequestInit) => {
      recorder.requests++;
      const request = new Request(input, init);
      const authorization = request.headers.get("authorization");
      let entry: SentCredential | undefined;
      if (authorization !== null) {
        const { challenge, payload } = parseCredential(authorization);
        entry = {
          method: request.method,
          url: request.url,
          action: String(payload.action),
          ...(payload.type === undefined ? {} : { type: String(payload.type) }),
          ...(payload.cumulativeAmount === undefined ? {} : { cumulativeAmount: BigInt(String(payload.cumulativeAmount)) }),
          deposit: payload.deposit !== undefined,
          challengeId: challenge.id,
        };
        sent.push(entry);
      }
      const response = await fetch(request);
      if (entry) entry.status = response.status;
      return response;
    },
    { sent, requests: 0 },
  );
  return recorder as typeof fetch & { sent: SentCredential[]; requests: number };
}

/**
 * Transactions mined since block `from` (exclusive), counted block by block. Block numbers are always
 * read with `cacheTime: 0`: viem caches them for the polling interval, which would hide a fresh block.
 */
export async function transactionsSince(chain: LocalChain, from: bigint): Promise<number> {
  const latest = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
  let count = 0;
  for (let block = from + 1n; block <= latest; block++) count += await chain.publicClient.getBlockTransactionCount({ blockNumber: block });
  return count;
}

/** Reads a whole SSE body into its events. */
export async function readEvents(response: Response): Promise<{ event: string; data: unknown }[]> {
  const text = await response.text();
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const event = /^event: ?(.*)$/m.exec(block)?.[1] ?? "message";
      const data = block
        .split(/\r?\n/)
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.replace(/^data: ?/, ""))
        .join("\n");
      return { event, data: JSON.parse(data) as unknown };
    });
}

export function otherChain(chain: Chain, id: number): Chain {
  return { ...chain, id };
}

export type HostileSeller = { url: string; stop(): Promise<void> };

/**
 * A seller that answers as `answer` decides: it gets each request and the honest gate's handling of it
 * (`honest()`), and may return that, rewrite it, or answer anything else. Lets a test play a seller
 * that lies about balances, channels or prices on top of a real gate.
 */
export async function startHostileSeller({ honest, answer, path = "/api/photo" }: { honest: Seller; answer: (request: Request, honest: () => Promise<Response>) => Promise<Response>; path?: string }): Promise<HostileSeller> {
  const paid: PaidHandler = async (request, payment) => {
    honest.served.push({ method: request.method, body: "", channelId: payment.method === "session" ? payment.channelId : assert.fail("these sellers take sessions only") });
    return Response.json({ photo: honest.served.length });
  };
  const server = createServer(toNodeHandler((request) => answer(request, () => honest.route.handle(request, paid))));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A problem response as the gate writes it, with a fresh challenge of `seller` when the status is 402. */
export function problem(seller: Seller, status: number, type: string, extensions: Record<string, string> = {}): Response {
  const headers: Record<string, string> = { "content-type": "application/problem+json" };
  if (status === 402) headers["www-authenticate"] = formatChallenge(seller.route.challenge());
  return new Response(JSON.stringify({ type: `https://paymentauth.org/problems/${type}`, status, ...extensions }), { status, headers });
}

/** The action of the Payment credential a request carries ("open", "voucher", "close"), or undefined when unpaid. */
export function credentialAction(request: Request): string | undefined {
  const authorization = request.headers.get("authorization");
  return authorization === null ? undefined : String(parseCredential(authorization).payload.action);
}

/** Asserts that `error` is a PaymentCapError naming `cap`; for assert.rejects. */
export const capError = (cap: PaymentCap) => (error: unknown) => {
  assert.ok(error instanceof PaymentCapError, `expected a PaymentCapError, got ${String(error)}`);
  assert.equal(error.cap, cap);
  assert.equal(error.code, "CAP_EXCEEDED");
  return true;
};

/**
 * A describe block's local chain (started before its tests, stopped after them with every seller the
 * tests started) and its buyers: each a fresh counting account holding 100 USDC. `chain` picks the node
 * (e.g. anvil with 2 s blocks).
 */
export function clientSuite(chain: StartLocalChainParameters = {}) {
  const sellers: { stop(): Promise<void> }[] = [];
  let nextBuyer = 2;
  const suite = {
    chain: undefined as unknown as LocalChain,
    async seller(parameters: Omit<StartSellerParameters, "chain"> = {}) {
      const started = await startSeller({ chain: suite.chain, ...parameters });
      sellers.push(started);
      return started;
    },
    async hostile(honest: Seller, answer: Parameters<typeof startHostileSeller>[0]["answer"]) {
      const started = await startHostileSeller({ honest, answer });
      sellers.push(started);
      return started;
    },
    async freshBuyer() {
      const account = countingAccount(suite.chain.account(nextBuyer++));
      await suite.chain.mint(account.address, 100n * USDC);
      return account;
    },
  };
  before(async function () {
    suite.chain = await startLocalChain(chain);
  });
  after(async function () {
    for (const seller of sellers) await seller.stop();
    await suite.chain?.stop();
  });
  return suite;
}
