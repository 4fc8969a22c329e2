// The payer usage endpoint end to end (issue 10, "Discovery and usage"): a gate with a session and an
// MPP charge on two named routes, real buyers paying over HTTP on the local chain, then each buyer reading
// its own usage with fetchUsage (EOA, session key, ERC-1271 contract wallet) and hostile callers trying
// to read someone else's: every refusal is a 400/401 problem, never a 5xx and never another payer's data.
import assert from "node:assert/strict";
import { type Address, http, type LocalAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { createMemoryChannelStore, createPayingFetch, fetchUsage, UsageRequestError } from "../../../sdk/src/client/index.js";
import { ConfigurationError } from "../../../sdk/src/errors/ConfigurationError.js";
import { encodeBase64url } from "../../../sdk/src/protocol/base64url.js";
import { formatUsageAuthorization, getUsageTypedData, type UsageRequest } from "../../../sdk/src/protocol/usage.js";
import { charge, createUsageEndpoint, type PaymentGate } from "../../../sdk/src/server/index.js";
import { contractWallet } from "../../client/e2e/wallets.js";
import { makeGate, sellerChain, sqliteStore, startServer } from "./helpers.js";

const PRICE = 10_000n;
const REALM = "photos.usage.test";
/** An escrow the one-time buyer does not trust: it pays each request by MPP charge instead. */
const UNTRUSTED_ESCROW = "0x00000000000000000000000000000000000000e5" as Address;

describe("server e2e: the payer usage endpoint", function () {
  this.timeout(120_000);
  const suite = sellerChain();
  let gate: PaymentGate;
  let base: string;
  let usageUrl: string;
  let alice: LocalAccount;
  let bob: LocalAccount;
  let aliceKey: LocalAccount;

  const paying = (account: LocalAccount, options: Partial<Parameters<typeof createPayingFetch>[0]> = {}) =>
    createPayingFetch({ account, chain: suite.chain.chain, transport: http(suite.chain.rpcUrl), maxDeposit: 100n * PRICE, escrows: [suite.chain.escrow], currencies: [suite.chain.token], ...options });

  before(async function () {
    const { store } = sqliteStore();
    suite.stores.push(store);
    gate = makeGate(suite.chain, store, { methods: [charge()], realm: REALM });
    const photos = gate.session({ amount: PRICE, name: "photos", unitType: "photo", suggestedDeposit: 10n * PRICE });
    const search = gate.session({ amount: PRICE, description: "search", suggestedDeposit: 10n * PRICE });
    const usage = createUsageEndpoint({ gate });
    const server = await startServer((request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/usage") return usage(request);
      return (pathname === "/search" ? search : photos).handle(request, async () => Response.json({ ok: true }));
    });
    suite.servers.push(server);
    base = server.url;
    usageUrl = `${base}/usage`;
    [alice, bob] = [suite.chain.account(3), suite.chain.account(4)];
    for (const account of [alice, bob]) await suite.chain.mint(account.address, 100n * PRICE);

    // Alice: two photos and a search on a session, one photo by charge. Bob: one photo on a session.
    const channels = createMemoryChannelStore();
    const aliceSession = paying(alice, { store: channels });
    for (const path of ["/photo", "/photo", "/search"]) assert.equal((await aliceSession(`${base}${path}`)).status, 200);
    const aliceCharge = paying(alice, { escrows: [UNTRUSTED_ESCROW] });
    assert.equal((await aliceCharge(`${base}/photo`)).status, 200);
    assert.equal((await paying(bob)(`${base}/photo`)).status, 200);
    const [channel] = await channels.list();
    assert.ok(channel?.sessionKey, "the client opened Alice's channel with a session key");
    aliceKey = privateKeyToAccount(channel.sessionKey);
  });

  /** A hand-made usage request: `account` signs `claims` (a test bends any of them). */
  async function signedHeader(account: LocalAccount, claims: Partial<UsageRequest> & { signer?: Address } = {}, chainId = suite.chain.chain.id): Promise<string> {
    const { signer, ...rest } = claims;
    const request: UsageRequest = { payer: account.address, realm: REALM, origin: base, issuedAt: BigInt(Math.floor(Date.now() / 1000)), ...rest };
    const signature = await account.signTypedData(getUsageTypedData({ chainId, request }));
    return formatUsageAuthorization({ ...request, ...(signer === undefined ? {} : { signer }), signature });
  }

  async function expectRefusal(authorization: string | null, status: 400 | 401, detail?: RegExp, init: RequestInit = {}) {
    const response = await fetch(usageUrl, { ...init, headers: authorization === null ? {} : { authorization } });
    const body = (await response.json()) as { status: number; detail: string; payer?: unknown; routes?: unknown };
    assert.equal(response.status, status, body.detail);
    assert.equal(response.headers.get("content-type"), "application/problem+json");
    assert.equal(body.status, status);
    assert.equal(body.routes, undefined, "no usage in a refusal");
    if (detail) assert.match(body.detail, detail);
    return response;
  }

  it("test_usageEndpoint_reportsThePayersTotalsPerRouteUnitTypeAndMonth", async () => {
    const usage = await fetchUsage({ url: usageUrl, wallet: alice });
    assert.equal(usage.payer, alice.address);
    assert.equal(usage.currency, suite.chain.token);
    const photo = { amount: 3n * PRICE, units: 3n, charges: 2, payments: 1 };
    const search = { amount: PRICE, units: 1n, charges: 1, payments: 0 };
    assert.deepEqual(usage.routes, [{ route: "photos", ...photo }, { route: "search", ...search }]);
    assert.deepEqual(usage.unitTypes, [{ unitType: "photo", ...photo }, { unitType: "request", ...search }]);
    const all = { amount: 4n * PRICE, units: 4n, charges: 3, payments: 1 };
    assert.deepEqual(usage.total, all);
    const now = new Date();
    assert.deepEqual(usage.month, { period: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString(), ...all });
    assert.equal(usage.channels.length, 1);
    assert.equal(usage.channels[0]!.spent, 3n * PRICE);
    // Bob sees his own photo only.
    const bobs = await fetchUsage({ url: usageUrl, wallet: bob });
    assert.deepEqual(bobs.total, { amount: PRICE, units: 1n, charges: 1, payments: 0 });
    assert.deepEqual(bobs.routes.map((row) => row.route), ["photos"]);
  });

  it("test_usageEndpoint_aSessionKeyReadsItsPayerOnly", async () => {
    const usage = await fetchUsage({ url: usageUrl, wallet: aliceKey, payer: alice.address });
    assert.equal(usage.total.amount, 4n * PRICE);
    await assert.rejects(fetchUsage({ url: usageUrl, wallet: aliceKey, payer: bob.address }), (error: unknown) => {
      assert.ok(error instanceof UsageRequestError, String(error));
      assert.equal(error.status, 401);
      return true;
    });
    // A key no channel of Alice's names, claiming to be hers.
    await expectRefusal(await signedHeader(privateKeyToAccount(generatePrivateKey()), { payer: alice.address, signer: privateKeyToAccount(generatePrivateKey()).address }), 401, /session key/);
  });

  it("test_usageEndpoint_anErc1271WalletReadsItsUsage", async () => {
    const wallet = await contractWallet(suite.chain, 6);
    const usage = await fetchUsage({ url: usageUrl, wallet: wallet.client });
    assert.equal(usage.payer, wallet.address);
    assert.deepEqual(usage.total, { amount: 0n, units: 0n, charges: 0, payments: 0 });
    assert.deepEqual(usage.routes, []);
  });

  it("test_usageEndpoint_refusesSomeoneElsesSignatureStaleRequestsAndOtherSellers", async () => {
    const mallory = privateKeyToAccount(generatePrivateKey());
    const now = Math.floor(Date.now() / 1000);
    // Mallory signs a request for Alice's usage, as Alice and as a signer of her own.
    await expectRefusal(await signedHeader(mallory, { payer: alice.address }), 401, /signature/);
    await expectRefusal(await signedHeader(mallory, { payer: alice.address, signer: mallory.address }), 401, /session key/);
    // Bob's own key is not a signer of Alice's channels either.
    await expectRefusal(await signedHeader(bob, { payer: alice.address, signer: bob.address }), 401);
    // Alice's genuine signature, bent after signing: another payer, a later time.
    const genuine = await signedHeader(alice);
    const claims = JSON.parse(Buffer.from(genuine.split(" ")[1]!, "base64url").toString()) as Record<string, unknown>;
    await expectRefusal(`TollgateUsage ${encodeBase64url(JSON.stringify({ ...claims, payer: bob.address }))}`, 401, /signature/);
    await expectRefusal(`TollgateUsage ${encodeBase64url(JSON.stringify({ ...claims, issuedAt: now + 10 }))}`, 401, /signature/);
    // Stale, future, another realm, another origin, another chain's domain.
    await expectRefusal(await signedHeader(alice, { issuedAt: BigInt(now - 301) }), 401, /expired/);
    await expectRefusal(await signedHeader(alice, { issuedAt: BigInt(now + 600) }), 401, /future/);
    await expectRefusal(await signedHeader(alice, { realm: "another.shop" }), 401, /realm/);
    await expectRefusal(await signedHeader(alice, { origin: "https://another.shop" }), 401, /origin/);
    await expectRefusal(await signedHeader(alice, {}, 1), 401, /signature/);
    // Unsigned: a 401 that says what to sign.
    const unsigned = await expectRefusal(null, 401);
    assert.match(unsigned.headers.get("www-authenticate")!, /^TollgateUsage realm="photos.usage.test", chainId="31337"$/);
  });

  it("test_usageEndpoint_malformedHeadersAre400ProblemsNever5xx", async () => {
    const alices = JSON.parse(Buffer.from((await signedHeader(alice)).split(" ")[1]!, "base64url").toString()) as Record<string, unknown>;
    const json = (value: unknown) => `TollgateUsage ${encodeBase64url(JSON.stringify(value))}`;
    const cases: [string, string][] = [
      ["another scheme", "Bearer abc"],
      ["no token", "TollgateUsage"],
      ["two tokens", "TollgateUsage abc def"],
      ["not base64url", "TollgateUsage !!!"],
      ["padded base64", `TollgateUsage ${Buffer.from("{}").toString("base64")}`],
      ["not JSON", `TollgateUsage ${encodeBase64url("{not json")}`],
      ["not UTF-8", `TollgateUsage ${encodeBase64url(new Uint8Array([0xff, 0xfe]))}`],
      ["a JSON array", json([alices])],
      ["null", json(null)],
      ["no payer", json({ ...alices, payer: undefined })],
      ["a bad payer", json({ ...alices, payer: "0x12" })],
      ["a bad checksum", json({ ...alices, payer: (alices.payer as string).replace(/[a-f]/, (c) => c.toUpperCase()) })],
      ["issuedAt as text", json({ ...alices, issuedAt: String(alices.issuedAt) })],
      ["a negative issuedAt", json({ ...alices, issuedAt: -1 })],
      ["an unsafe issuedAt", json({ ...alices, issuedAt: 2 ** 60 })],
      ["a realm object", json({ ...alices, realm: { toString: 1 } })],
      ["a huge origin", json({ ...alices, origin: "x".repeat(10_000) })],
      ["a signature that is not hex", json({ ...alices, signature: "0xzz" })],
      ["a huge signature", json({ ...alices, signature: `0x${"00".repeat(5_000)}` })],
      ["a bad signer", json({ ...alices, signer: 42 })],
    ];
    for (const [label, header] of cases) {
      const response = await fetch(usageUrl, { headers: { authorization: header } });
      assert.ok(response.status === 400 || response.status === 401, `${label}: ${response.status}`);
      assert.equal(response.headers.get("content-type"), "application/problem+json", label);
      assert.equal(((await response.json()) as { routes?: unknown }).routes, undefined, label);
    }
    // A short signature is well-formed hex: it is simply not Alice's.
    await expectRefusal(json({ ...alices, signature: "0x1234" }), 401, /signature/);
    const post = await fetch(usageUrl, { method: "POST", headers: { authorization: await signedHeader(alice) } });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET");
  });

  it("test_usageEndpoint_routeNamesAreCheckedAtConfiguration", () => {
    for (const route of [{ name: "" }, { name: "a\nb" }, { name: "x".repeat(129) }, { description: "Fotos für alle" }]) {
      assert.throws(() => gate.session({ amount: PRICE, ...route }), (error: unknown) => error instanceof ConfigurationError && error.option === "name", JSON.stringify(route));
    }
    // A unit type is stored with every charge: one the store would refuse is refused now.
    assert.throws(() => gate.session({ amount: PRICE, unitType: "Wörter" }), (error: unknown) => error instanceof ConfigurationError && error.option === "unitType");
    // A description that is no name is fine once the route has a name.
    gate.session({ amount: PRICE, name: "fotos", description: "Fotos für alle" });
  });
});
