// Shared fixtures of the server end-to-end tests: real HTTP servers on 127.0.0.1 in front of payment
// gates on the local hardhat chain (scripts/localChain.ts), a hand-driven payer that builds exactly the
// credentials a test needs (valid or not), store snapshots and throwaway PostgreSQL schemas.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { type Address, createWalletClient, type Hex, http, type LocalAccount, type Transport, zeroAddress } from "viem";
import { getTokenDomain } from "../../../sdk/src/authorization/getTokenDomain.js";
import { signOpenAuthorization } from "../../../sdk/src/authorization/signOpenAuthorization.js";
import { signTopUpAuthorization } from "../../../sdk/src/authorization/signTopUpAuthorization.js";
import { computeChannelId } from "../../../sdk/src/channel/computeChannelId.js";
import { decodeChallengeRequest, parseChallenges, type PaymentChallenge } from "../../../sdk/src/protocol/challenge.js";
import { encodeBase64url } from "../../../sdk/src/protocol/base64url.js";
import { formatCredential } from "../../../sdk/src/protocol/credential.js";
import { parseReceipt, type PaymentReceipt } from "../../../sdk/src/protocol/receipt.js";
import { formatSessionPayload, type SessionPayload } from "../../../sdk/src/session/payload.js";
import { parseSessionRequest, type SessionRequest } from "../../../sdk/src/session/request.js";
import { createPaymentGate, type PaymentGate, type PaymentGateParameters, type SessionStore } from "../../../sdk/src/server/index.js";
import { createPostgresStore } from "../../../sdk/src/server/postgres.js";
import { createSqliteStore } from "../../../sdk/src/server/sqlite.js";
import { type FetchHandler, toNodeHandler } from "../../../sdk/src/server/node.js";
import { openChannel } from "../../../sdk/src/transactions/openChannel.js";
import { topUpChannel } from "../../../sdk/src/transactions/topUpChannel.js";
import { signVoucher } from "../../../sdk/src/voucher/signVoucher.js";
import { type LocalChain, startLocalChain } from "../../../scripts/localChain.js";

export const SECRET = "tollgate e2e secret: at least thirty-two bytes long";
export const SELLER = 1;
export const PROBLEMS = "https://paymentauth.org/problems/";
export const SESSION_PROBLEMS = "https://paymentauth.org/problems/session/";

// ---------------------------------------------------------------- stores

export function sqliteStore(): { store: SessionStore; path: string } {
  const path = join(mkdtempSync(join(tmpdir(), "tollgate-server-e2e-")), "gate.db");
  return { store: createSqliteStore({ path }), path };
}

export const POSTGRES_URL = process.env.TOLLGATE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** Throwaway PostgreSQL schemas, dropped by `dropAll`. Fails loudly when PostgreSQL is not reachable. */
export function postgresSchemas() {
  const admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
  admin.on("error", () => undefined);
  const schemas = new Set<string>();
  let counter = 0;
  return {
    async assertReachable() {
      try {
        await admin.query("SELECT 1");
      } catch (error) {
        throw new Error(
          `PostgreSQL is not reachable at ${POSTGRES_URL} (${(error as Error).message}); these tests need it: ` +
            "start PostgreSQL or point TOLLGATE_TEST_POSTGRES_URL at one.",
        );
      }
    },
    async create(maxConnections = 8): Promise<{ store: SessionStore; schema: string }> {
      const schema = `tollgate_e2e_${process.pid}_${Date.now().toString(36)}_${++counter}`;
      schemas.add(schema);
      return { store: await createPostgresStore({ connectionString: POSTGRES_URL, schema, maxConnections }), schema };
    },
    async open(schema: string, maxConnections = 8): Promise<SessionStore> {
      return createPostgresStore({ connectionString: POSTGRES_URL, schema, maxConnections });
    },
    async dropAll() {
      for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`).catch(() => undefined);
      schemas.clear();
      await admin.end();
    },
  };
}

/** Every record a store holds, for "nothing changed" assertions. */
export async function snapshot(store: SessionStore) {
  const channels = await store.listChannels();
  const charges = [];
  for (const status of ["reserved", "committed", "released"] as const) charges.push(...(await store.listCharges({ status })));
  return { channels, charges };
}

// ---------------------------------------------------------------- gates and servers

export function makeGate(chain: LocalChain, store: SessionStore, overrides: Partial<PaymentGateParameters> = {}): PaymentGate {
  return createPaymentGate({
    chain: chain.chain,
    transport: http(chain.rpcUrl),
    escrow: chain.escrow,
    currency: chain.token,
    account: chain.account(SELLER),
    store,
    secret: SECRET,
    transactionTimeout: 10_000,
    ...overrides,
  });
}

export type TestServer = { url: string; server: Server; close(): Promise<void> };

/** A real HTTP server on a loopback port serving a fetch-style handler through the node adapter. */
export async function startServer(handler: FetchHandler): Promise<TestServer> {
  const server = createServer(toNodeHandler(handler));
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------- a suite's chain

export type SellerChain = { chain: LocalChain; seller: Address; payer: Payer; servers: TestServer[]; stores: SessionStore[] };

/**
 * Registers the suite's hooks: a local chain with a payer (test account 2) holding 100 000 000 base
 * units before the tests, and after them the servers and stores the tests pushed closed and the chain
 * stopped. The fields are set once `before` ran.
 */
export function sellerChain(): SellerChain {
  const suite = { servers: [], stores: [] } as unknown as SellerChain;
  before(async function () {
    suite.chain = await startLocalChain();
    suite.seller = suite.chain.account(SELLER).address;
    suite.payer = new Payer(suite.chain, suite.chain.account(2));
    await suite.chain.mint(suite.payer.address, 100_000_000n);
  });
  after(async function () {
    for (const server of suite.servers) await server.close();
    for (const store of suite.stores) await store.close();
    await suite.chain?.stop();
  });
  return suite;
}

/**
 * A gate on a SQLite store of its own behind a server, with one route of `price` per unit where a
 * request's `x-units` header says how many units it costs (default 1).
 */
export async function startMeteredGate(suite: SellerChain, { price, deposit, ...overrides }: Partial<PaymentGateParameters> & { price: bigint; deposit: bigint }) {
  const { store } = sqliteStore();
  suite.stores.push(store);
  const gate = makeGate(suite.chain, store, overrides);
  const route = gate.session({ amount: price, suggestedDeposit: deposit, units: (request) => BigInt(request.headers.get("x-units") ?? "1") });
  const server = await startServer((request) => route.handle(request, async () => Response.json({ ok: true })));
  suite.servers.push(server);
  const url = `${server.url}/paid`;
  return { store, gate, url, offer: await fetchOffer(url) };
}

// ---------------------------------------------------------------- the hand-driven payer

export type Offer = { challenge: PaymentChallenge; request: SessionRequest };

/** Reads the `evm` session challenge of a 402, asserting the headers every 402 must carry. */
export function readOffer(response: Response): Offer {
  assert.equal(response.status, 402);
  assertChallengeHeaders(response);
  const [challenge] = parseChallenges(response.headers.get("www-authenticate")!);
  assert.ok(challenge, "no Payment challenge");
  return { challenge, request: parseSessionRequest(decodeChallengeRequest(challenge.request)) };
}

export function assertChallengeHeaders(response: Response) {
  assert.match(response.headers.get("www-authenticate") ?? "", /^Payment /, "a 402 must carry WWW-Authenticate: Payment");
  assert.equal(response.headers.get("cache-control"), "no-store", "a 402 must carry Cache-Control: no-store");
}

export async function fetchOffer(url: string, init?: RequestInit): Promise<Offer> {
  const response = await fetch(url, init);
  await response.body?.cancel();
  return readOffer(response);
}

/** The `Authorization` header value of a typed payload answering `challenge`. */
export function credential(challenge: PaymentChallenge, payload: SessionPayload, source?: string): string {
  return formatCredential({ challenge, payload: formatSessionPayload(payload), ...(source === undefined ? {} : { source }) });
}

/** The `Authorization` header value of an arbitrary JSON value, for malformed credentials. */
export function rawCredential(value: unknown): string {
  return `Payment ${encodeBase64url(JSON.stringify(value))}`;
}

export function receiptOf(response: Response): PaymentReceipt & { acceptedCumulative: string; spent: string; channelId: Hex } {
  assert.equal(response.headers.get("cache-control"), "private", "a response with a receipt must carry Cache-Control: private");
  const header = response.headers.get("payment-receipt");
  assert.ok(header, `no Payment-Receipt on a ${response.status}`);
  return parseReceipt(header) as PaymentReceipt & { acceptedCumulative: string; spent: string; channelId: Hex };
}

/** Reads an RFC 9457 problem, asserting its media type, status, type and the 402 headers. */
export async function expectProblem(response: Response, status: number, type: string, { head = false } = {}): Promise<Record<string, unknown>> {
  const text = await response.text();
  assert.equal(response.status, status, `expected ${status} ${type}, got ${response.status}: ${text}`);
  assert.equal(response.headers.get("content-type"), "application/problem+json");
  // A response to HEAD has the headers of the GET answer and no body.
  const problem = head ? { type, status } : (JSON.parse(text) as Record<string, unknown>);
  assert.equal(problem.type, type, text);
  assert.equal(problem.status, status);
  if (status === 402) assertChallengeHeaders(response);
  else assert.equal(response.headers.get("cache-control"), "no-store");
  assert.equal(response.headers.get("payment-receipt"), null, "a failure must not carry a receipt");
  return problem;
}

export function randomBytes32(): Hex {
  return `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex")}`;
}

/** A payer that opens channels with its own transactions and signs vouchers; every step is explicit. */
export class Payer {
  readonly wallet;
  constructor(
    readonly chain: LocalChain,
    readonly account: LocalAccount,
  ) {
    this.wallet = createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl), account });
  }

  get address(): Address {
    return this.account.address;
  }

  get source(): string {
    return `did:pkh:eip155:${this.chain.chain.id}:${this.account.address}`;
  }

  channelIdFor(payee: Address, salt: Hex): Hex {
    return computeChannelId({ chainId: this.chain.chain.id, escrow: this.chain.escrow, payer: this.address, payee, token: this.chain.token, salt, authorizedSigner: zeroAddress });
  }

  /** Opens a channel on-chain (type hash); the server has not seen it yet. */
  async openOnChain(payee: Address, deposit: bigint, salt: Hex = randomBytes32()): Promise<{ channelId: Hex; hash: Hex; salt: Hex }> {
    const { hash, channelId } = await openChannel({ client: this.wallet, publicClient: this.chain.publicClient, escrow: this.chain.escrow, payee, token: this.chain.token, deposit, salt });
    return { channelId, hash, salt };
  }

  async topUpOnChain(channelId: Hex, additionalDeposit: bigint): Promise<Hex> {
    const { hash } = await topUpChannel({ client: this.wallet, publicClient: this.chain.publicClient, escrow: this.chain.escrow, channelId, additionalDeposit });
    return hash;
  }

  sign(channelId: Hex, cumulativeAmount: bigint): Promise<Hex> {
    return signVoucher({ account: this.account, chainId: this.chain.chain.id, escrow: this.chain.escrow, channelId, cumulativeAmount });
  }

  async voucher(channelId: Hex, cumulativeAmount: bigint): Promise<SessionPayload> {
    return { action: "voucher", channelId, cumulativeAmount, signature: await this.sign(channelId, cumulativeAmount) };
  }

  /** The `open` credential (type hash) of a channel opened on-chain, with its first voucher. */
  async openPayload(opened: { channelId: Hex; hash: Hex; salt: Hex }, cumulativeAmount: bigint): Promise<SessionPayload> {
    return { action: "open", type: "hash", channelId: opened.channelId, hash: opened.hash, cumulativeAmount, signature: await this.sign(opened.channelId, cumulativeAmount), salt: opened.salt };
  }
}

/** Sends a request carrying `authorization`. */
export function pay(url: string, authorization: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", authorization);
  return fetch(url, { ...init, headers });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Fisher–Yates, deterministic for a seed so a failing order can be replayed. */
export function shuffle<T>(items: T[], seed: number): T[] {
  const result = [...items];
  let state = seed >>> 0 || 1;
  const random = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j]!, result[i]!];
  }
  return result;
}

/** An HTTP transport that records the JSON-RPC method of every request it sends (batches count each call). */
export function countingTransport(url: string): { transport: Transport; calls: string[] } {
  const calls: string[] = [];
  const transport: Transport = (parameters) => {
    const live = http(url)(parameters);
    const request = ((args: { method: string }, options?: unknown) => {
      calls.push(args.method);
      return live.request(args as never, options as never);
    }) as typeof live.request;
    return { ...live, request };
  };
  return { transport, calls };
}

/** Signs the EIP-3009 authorizations a fee-paying gate submits for `payee`'s channels (valid for an hour of chain time). */
export async function relayedAuthorizations(chain: LocalChain, payee: Address) {
  const tokenDomain = await getTokenDomain({ client: chain.publicClient, token: chain.token });
  const validBefore = async () => (await chain.publicClient.getBlock()).timestamp + 3_600n;
  async function open(payer: Payer, salt: Hex, deposit: bigint) {
    const { signature, ...authorization } = await signOpenAuthorization({ account: payer.account, tokenDomain, escrow: chain.escrow, payee, deposit, salt, validBefore: await validBefore() });
    return { authorization, signature };
  }
  return {
    open,
    async topUp(payer: Payer, channelId: Hex, additionalDeposit: bigint) {
      const topUpSalt = randomBytes32();
      const { signature, ...authorization } = await signTopUpAuthorization({ account: payer.account, tokenDomain, escrow: chain.escrow, channelId, additionalDeposit, topUpSalt, validBefore: await validBefore() });
      return { authorization, signature, salt: topUpSalt };
    },
    /** The `open` credential of type authorization, with its first voucher. */
    async openPayload(payer: Payer, salt: Hex, { deposit, cumulativeAmount, channelId = payer.channelIdFor(payee, salt) }: { deposit: bigint; cumulativeAmount: bigint; channelId?: Hex }): Promise<SessionPayload> {
      const { authorization, signature } = await open(payer, salt, deposit);
      return { action: "open", type: "authorization", channelId, authorization, signature, cumulativeAmount, voucherSignature: await payer.sign(channelId, cumulativeAmount), salt };
    },
  };
}
