// The paying client's reading of a 402 and its choice among offers, against hostile sellers: every
// malformed or out-of-cap offer is a typed error raised before anything is signed or sent; the choice
// rule (session, then charge, x402 v2, x402 v1) holds; a seller's receipt never lowers what was spent.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type Address, getAddress, http } from "viem";
import { getTokenDomain } from "../../../sdk/src/authorization/getTokenDomain.js";
import { createPayingFetch, InvalidValueError, type PayingFetchParameters, UntrustedServerError } from "../../../sdk/src/client/index.js";
import { encodeChallengeRequest, formatChallenge } from "../../../sdk/src/protocol/challenge.js";
import { toNodeHandler } from "../../../sdk/src/server/node.js";
import { capError, clientSuite, countingAccount, credentialAction, PRICE, SELLER, USDC } from "./fixture.js";

const OTHER = getAddress("0x00000000000000000000000000000000000b0b00");
const b64 = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64");
const unb64 = (value: string) => JSON.parse(Buffer.from(value, "base64").toString("utf8")) as Record<string, any>;

describe("client e2e: offers in a 402 (hostile sellers, choice rule)", function () {
  this.timeout(120_000);
  const suite = clientSuite();
  const stops: (() => Promise<void>)[] = [];
  let domain: { name: string; version: string };
  before(async function () {
    const { name, version } = await getTokenDomain({ client: suite.chain.publicClient, token: suite.chain.token });
    domain = { name, version };
  });
  after(async function () {
    for (const stop of stops) await stop();
  });

  const payTo = () => suite.chain.account(SELLER).address;
  const requirement = (overrides: Record<string, unknown> = {}) => ({
    scheme: "exact",
    network: `eip155:${suite.chain.chain.id}`,
    amount: PRICE.toString(),
    asset: suite.chain.token,
    payTo: payTo(),
    maxTimeoutSeconds: 300,
    extra: { ...domain },
    ...overrides,
  });
  const paymentRequired = (...accepts: unknown[]) => b64({ x402Version: 2, error: "payment required", resource: { url: "http://127.0.0.1/photo" }, accepts });
  const x402 = (header: string, body = "{}") => new Response(body, { status: 402, headers: { "payment-required": header, "content-type": "application/json" } });

  /** A seller answering each request as `answer` says; it records the requests it got. */
  async function seller(answer: (request: Request, index: number) => Response | Promise<Response>) {
    const requests: Request[] = [];
    const server = createServer(toNodeHandler(async (request) => answer(request, requests.push(request) - 1)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    stops.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/photo`, requests };
  }
  /** A seller that always answers an unpaid request with `unpaid` and a paid one with 200. */
  const offering = (unpaid: () => Response) => seller((request) => (paymentHeader(request) ? Response.json({ photo: 1 }) : unpaid()));
  const paymentHeader = (request: Request) => request.headers.get("payment-signature") ?? request.headers.get("x-payment") ?? request.headers.get("authorization");

  /**
   * A buyer for sellers that never settle: nothing of it reaches the chain, so one funded account serves
   * them all (the node funds only 20), each time with its own count of what it signs.
   */
  const watchedBuyer = async () => countingAccount(suite.chain.account(19));
  const pay = (account: Awaited<ReturnType<typeof suite.freshBuyer>>, options: Partial<PayingFetchParameters> = {}) =>
    createPayingFetch({ account, chain: suite.chain.chain, transport: http(suite.chain.rpcUrl), maxDeposit: 10n * USDC, escrows: [suite.chain.escrow], currencies: [suite.chain.token], ...options });

  async function assertRefused(unpaid: () => Response, check: (error: unknown) => boolean, options: Partial<PayingFetchParameters> = {}) {
    const shop = await offering(unpaid);
    const account = await watchedBuyer();
    await assert.rejects(pay(account, options)(shop.url), check);
    assert.deepEqual(account.signed, { typedData: [], transactions: 0, messages: 0 });
    assert.equal(shop.requests.length, 1, "nothing but the unpaid request was sent");
  }
  const invalid = (error: unknown) => error instanceof InvalidValueError && error.code === "INVALID_VALUE";

  it("test_offers_aWrongNetworkIsRefusedAsChain", async function () {
    await assertRefused(() => x402(paymentRequired(requirement({ network: "eip155:1" }))), capError("chain"));
    // A v1 network name of another chain too.
    await assertRefused(() => new Response(JSON.stringify({ x402Version: 1, accepts: [{ ...requirement({ network: "base" }), maxAmountRequired: "10000", resource: "http://x/photo", description: "", mimeType: "" }] }), { status: 402 }), capError("chain"));
  });

  it("test_offers_anUnknownAssetIsRefusedAsCurrency", async function () {
    await assertRefused(() => x402(paymentRequired(requirement({ asset: OTHER }))), capError("currency"));
  });

  it("test_offers_anAmountAboveTheCapIsRefused", async function () {
    await assertRefused(() => x402(paymentRequired(requirement({ amount: (1000n * USDC).toString() }))), capError("maxPricePerUnit"), { maxPricePerUnit: PRICE });
    await assertRefused(() => x402(paymentRequired(requirement({ amount: (1000n * USDC).toString() }))), capError("maxDeposit"));
  });

  it("test_offers_malformedBase64OrJsonOrFieldsAreTypedErrors", async function () {
    await assertRefused(() => x402("%%%not base64%%%"), invalid);
    await assertRefused(() => x402(b64("{not json")), invalid);
    await assertRefused(() => x402(b64({ x402Version: 2, resource: { url: "u" }, accepts: "all" })), invalid);
    await assertRefused(() => x402(b64({ x402Version: 2, accepts: [requirement()] })), invalid);
    await assertRefused(() => x402(paymentRequired(requirement({ amount: "-1" }))), invalid);
    await assertRefused(() => x402(paymentRequired(requirement({ payTo: "0xnot an address" }))), invalid);
    await assertRefused(() => x402(paymentRequired(requirement({ extra: {} }))), invalid);
    await assertRefused(() => x402(paymentRequired(...Array.from({ length: 100 }, () => ({})))), invalid);
    await assertRefused(() => new Response(JSON.stringify({ x402Version: 1, accepts: [{ scheme: "exact", network: `eip155:${suite.chain.chain.id}` }] }), { status: 402 }), invalid);
  });

  it("test_offers_anAbsurdMaxTimeoutSecondsIsRefusedAndALongOneIsCapped", async function () {
    for (const maxTimeoutSeconds of [-5, 0, 1.5, "300", 1e300]) {
      await assertRefused(() => x402(paymentRequired(requirement({ maxTimeoutSeconds }))), invalid);
    }
    const shop = await offering(() => x402(paymentRequired(requirement({ maxTimeoutSeconds: 10 * 365 * 86_400 }))));
    const account = await watchedBuyer();
    const started = Math.floor(Date.now() / 1000);
    assert.equal((await pay(account, { maxPaymentTimeout: 120 })(shop.url)).status, 200);
    const sent = unb64(shop.requests[1]!.headers.get("payment-signature")!);
    assert.ok(Number(sent.payload.authorization.validBefore) <= started + 121, "valid for at most the client's 120 s");
  });

  it("test_offers_aChargeForAnotherChainAboveTheCapOrExpiredIsRefused", async function () {
    const charge = (request: Record<string, unknown>, expires?: string) => () =>
      new Response(null, {
        status: 402,
        headers: {
          "www-authenticate": formatChallenge({
            id: "c1",
            realm: "hostile.test",
            method: "evm",
            intent: "charge",
            request: encodeChallengeRequest({ amount: PRICE.toString(), currency: suite.chain.token, recipient: payTo(), methodDetails: { chainId: suite.chain.chain.id, credentialTypes: ["authorization"] }, ...request }),
            ...(expires ? { expires } : {}),
          }),
        },
      });
    await assertRefused(charge({ methodDetails: { chainId: 1, credentialTypes: ["authorization"] } }), capError("chain"));
    await assertRefused(charge({ currency: OTHER }), capError("currency"));
    await assertRefused(charge({ amount: (1000n * USDC).toString() }), capError("maxPricePerUnit"), { maxPricePerUnit: PRICE });
    await assertRefused(charge({ amount: "1e6" }), invalid);
    await assertRefused(charge({}, new Date(Date.now() - 60_000).toISOString()), invalid);
  });

  it("test_offers_aWrongEip712DomainIsRefusedBeforeSigning", async function () {
    const refusedAsUntrusted = (error: unknown) => error instanceof UntrustedServerError;
    await assertRefused(() => x402(paymentRequired(requirement({ extra: { name: "Not The Token", version: domain.version } }))), refusedAsUntrusted);
    await assertRefused(() => x402(paymentRequired(requirement({ extra: { name: domain.name, version: "99" } }))), refusedAsUntrusted);
  });

  it("test_offers_aPayToChangeAfterPaymentIsRefusedAndNothingMoreSigned", async function () {
    const shop = await seller((request) => x402(paymentRequired(requirement(paymentHeader(request) ? { payTo: OTHER } : {}))));
    const account = await watchedBuyer();
    const client = pay(account);
    await assert.rejects(client(shop.url), (error) => error instanceof UntrustedServerError);
    assert.deepEqual(account.signed.typedData, ["TransferWithAuthorization"]);
    assert.equal(shop.requests.length, 2);
    assert.equal(getAddress(unb64(shop.requests[1]!.headers.get("payment-signature")!).payload.authorization.to), payTo());
    // The authorization was sent: the seller may still submit it, so it counts.
    assert.equal(await client.totalSpent(), PRICE);
  });

  it("test_offers_aRefusedPaymentReturnsThe402AndIsNotPaidTwice", async function () {
    const shop = await seller(() => x402(paymentRequired(requirement())));
    const account = await watchedBuyer();
    const response = await pay(account)(shop.url);
    assert.equal(response.status, 402);
    assert.equal(shop.requests.length, 2);
    assert.equal(account.signed.typedData.length, 1);
  });

  it("test_offers_aLyingReceiptNeverLowersWhatWasSpent", async function () {
    const stranger = suite.chain.account(9).address;
    for (const claim of [{ success: false, transaction: "", network: "eip155:1" }, { success: true, transaction: `0x${"ab".repeat(32)}`, network: `eip155:${suite.chain.chain.id}`, payer: stranger }, "garbage"]) {
      const shop = await seller((request) =>
        paymentHeader(request) ? Response.json({ photo: 1 }, { headers: { "payment-response": typeof claim === "string" ? claim : b64(claim) } }) : x402(paymentRequired(requirement())),
      );
      const account = await watchedBuyer();
      const client = pay(account);
      assert.equal((await client(shop.url)).status, 200);
      assert.equal(await client.totalSpent(), PRICE);
      assert.equal(await client.totalAuthorized(), PRICE);
      assert.equal((await client.payments())[0]!.claimedTransaction, undefined);
    }
  });

  it("test_offers_offersThisClientDoesNotSpeakReturnThe402", async function () {
    const shop = await offering(() => x402(paymentRequired(requirement({ scheme: "upto" }), requirement({ network: "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp" }), requirement({ extra: { ...domain, assetTransferMethod: "permit2" } }))));
    const account = await watchedBuyer();
    assert.equal((await pay(account)(shop.url)).status, 402);
    assert.deepEqual(account.signed.typedData, []);
  });

  it("test_offers_x402V2IsPreferredOverV1", async function () {
    const v1 = { x402Version: 1, accepts: [{ ...requirement(), maxAmountRequired: PRICE.toString(), resource: "http://x/photo", description: "", mimeType: "" }] };
    const shop = await offering(() => x402(paymentRequired(requirement()), JSON.stringify(v1)));
    const account = await watchedBuyer();
    assert.equal((await pay(account)(shop.url)).status, 200);
    assert.notEqual(shop.requests[1]!.headers.get("payment-signature"), null);
    assert.equal(shop.requests[1]!.headers.get("x-payment"), null);
  });

  /** A tollgate gate whose 402s also carry an x402 offer (which this seller accepts without settling). */
  async function sessionAndX402() {
    const honest = await suite.seller();
    return seller(async (request) => {
      if (request.headers.has("payment-signature")) return Response.json({ photo: "x402" });
      const answer = await honest.route.handle(request, async () => Response.json({ photo: "session" }));
      if (answer.status !== 402) return answer;
      const headers = new Headers(answer.headers);
      headers.set("payment-required", paymentRequired(requirement()));
      return new Response(answer.body, { status: 402, headers });
    });
  }

  it("test_offers_aSessionIsChosenWhenOfferedBesideX402", async function () {
    const shop = await sessionAndX402();
    const account = await suite.freshBuyer();
    const client = pay(account);
    assert.deepEqual(await (await client(shop.url)).json(), { photo: "session" });
    assert.equal(credentialAction(shop.requests[1]!), "open");
    assert.equal(shop.requests.some((request) => request.headers.has("payment-signature")), false);
    assert.equal((await client.channels()).length, 1);
  });

  it("test_offers_aPerRequestPaymentIsChosenWhenTheSessionIsRefusedByACap", async function () {
    const shop = await sessionAndX402();
    const account = await watchedBuyer();
    // The gate's escrow is not one this client trusts: the session is refused, x402 is within the caps.
    const client = pay(account, { escrows: [OTHER as Address] });
    assert.deepEqual(await (await client(shop.url)).json(), { photo: "x402" });
    assert.equal(account.signed.transactions, 0);
    assert.deepEqual(account.signed.typedData, ["TransferWithAuthorization"]);
    assert.equal((await client.channels()).length, 0);
  });
});
