// The gate's core with a second payment method beside the session (issue 9, "a gate built from
// methods"): one 402 carries every method's offer; a credential goes to the method that claims it and
// its handler runs between that method's authorize and finish (or release); a credential no method
// claims is answered as before methods existed. The second method is a real GateMethod defined here:
// it accepts an `x-test-payment: good` header and records what the core asked of it.
import assert from "node:assert/strict";
import hre from "hardhat";
import { createWalletClient, type Hex, http } from "viem";
import { parseChallenges } from "../../../sdk/src/protocol/challenge.js";
import { type GateMethodFactory, type Payment, type PricedRoute, x402 } from "../../../sdk/src/server/index.js";
import { decodeX402Header } from "../../../sdk/src/protocol/x402.js";
import { credential, expectProblem, fetchOffer, makeGate, PROBLEMS, randomBytes32, receiptOf, sellerChain, sqliteStore, startServer } from "./helpers.js";

const PRICE = 1_000n;
const NONCE: Hex = `0x${"ab".repeat(32)}`;

type Calls = { offers: PricedRoute[]; finished: number[]; released: number; problems: unknown[]; ready: number };

/** A per-request method paid by an `x-test-payment: good` header; `fail` makes its finish throw. */
function testMethod(calls: Calls): GateMethodFactory {
  return ({ realm, recipient }) => ({
    name: "x402",
    ready: async () => void calls.ready++,
    offer(route) {
      calls.offers.push(route);
      return {
        wwwAuthenticate: [`Payment id="test", realm="${realm}", method="test", intent="charge", request="e30"`],
        headers: { "payment-required": `pay ${route.amount} to ${recipient}` },
        // `type` would override the problem's own member: the core keeps the problem's.
        body: { x402Version: 1, accepts: [{ scheme: "exact", amount: route.amount.toString() }], type: "not-a-problem-type" },
      };
    },
    claims: ({ request }) => request.headers.has("x-test-payment"),
    async authorize({ route, request }) {
      if (request.headers.get("x-test-payment") !== "good") {
        return { response: Response.json({ refused: true }, { status: 402 }) };
      }
      const units = route.units(request);
      return {
        payment: { method: "x402", payer: recipient, units, amount: route.amount * units, nonce: NONCE },
        async finish(status) {
          if (request.headers.get("x-test-fail") === "finish") throw new Error("settlement failed");
          calls.finished.push(status);
          return { "payment-response": `settled ${status}` };
        },
        async release() {
          calls.released++;
        },
        problem(error) {
          calls.problems.push(error);
          return new Response(null, { status: 402, headers: { "x-test-problem": String((error as Error).message) } });
        },
      };
    },
  });
}

describe("server e2e: the gate's core with a second method", function () {
  this.timeout(60_000);
  const suite = sellerChain();
  let url: string;
  let calls: Calls;
  const payments: Payment[] = [];

  before(async function () {
    calls = { offers: [], finished: [], released: 0, problems: [], ready: 0 };
    const { store } = sqliteStore();
    suite.stores.push(store);
    const gate = makeGate(suite.chain, store, { methods: [testMethod(calls)] });
    const route = gate.session({ amount: PRICE, description: "A photo" });
    const server = await startServer((request) =>
      route.handle(request, async (incoming, payment) => {
        payments.push(payment);
        if (incoming.headers.get("x-test-fail") === "handler") throw new Error("handler failed");
        return Response.json({ method: payment.method, units: payment.units.toString() });
      }),
    );
    suite.servers.push(server);
    url = `${server.url}/photo`;
  });

  it("test_gateCore_unpaidRequest_carriesEveryMethodsOfferInOne402", async function () {
    const response = await fetch(url);
    assert.equal(response.status, 402);
    const challenges = parseChallenges(response.headers.get("www-authenticate")!);
    assert.deepEqual(
      challenges.map(({ method, intent }) => `${method}/${intent}`),
      ["evm/session", "test/charge"],
      "the session's challenge first, then the added method's",
    );
    assert.equal(response.headers.get("payment-required"), `pay ${PRICE} to ${suite.seller}`);
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.equal(response.headers.get("content-type"), "application/problem+json");
    const body = await response.json();
    assert.equal(body.type, `${PROBLEMS}payment-required`, "the problem's own members win");
    assert.equal(body.status, 402);
    assert.equal(body.detail, "A photo");
    assert.equal(body.x402Version, 1);
    assert.deepEqual(body.accepts, [{ scheme: "exact", amount: PRICE.toString() }]);
    assert.equal(calls.offers.at(-1)!.amount, PRICE, "the method is offered the route priced in base units");
    assert.equal(calls.ready, 1, "the gate's start-up ran the method's own start-up reads once");
  });

  it("test_gateCore_credentialClaimedBySecondMethod_reachesItAndItsReceipt", async function () {
    const before = calls.finished.length;
    const response = await fetch(url, { headers: { "x-test-payment": "good" } });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { method: "x402", units: "1" });
    assert.equal(response.headers.get("payment-response"), "settled 200", "finish's receipt headers reach the response");
    assert.deepEqual(calls.finished.slice(before), [200]);
    assert.equal(payments.at(-1)!.method, "x402");
  });

  it("test_gateCore_secondMethodsRefusal_isItsOwnAnswer", async function () {
    const response = await fetch(url, { headers: { "x-test-payment": "forged" } });
    assert.equal(response.status, 402);
    assert.deepEqual(await response.json(), { refused: true });
  });

  it("test_gateCore_handlerFailureOrFinishFailure_releasesAndAnswersWithTheMethodsProblem", async function () {
    const released = calls.released;
    const failed = await fetch(url, { headers: { "x-test-payment": "good", "x-test-fail": "handler" } });
    assert.equal(failed.status, 402);
    assert.equal(failed.headers.get("x-test-problem"), "handler failed");
    assert.equal(calls.released, released + 1, "a handler that threw releases the held payment");
    const unsettled = await fetch(url, { headers: { "x-test-payment": "good", "x-test-fail": "finish" } });
    assert.equal(unsettled.status, 402);
    assert.equal(unsettled.headers.get("x-test-problem"), "settlement failed");
    assert.equal(unsettled.headers.get("payment-response"), null, "no receipt when finish failed");
  });

  it("test_gateCore_unclaimedCredential_isAnsweredAsBeforeMethods", async function () {
    // Another scheme: no method claims it, so the 402 with every offer.
    const bearer = await fetch(url, { headers: { authorization: "Bearer token" } });
    assert.equal(bearer.status, 402);
    assert.equal(parseChallenges(bearer.headers.get("www-authenticate")!).length, 2);
    await bearer.body?.cancel();
    // A Payment credential nobody else claims is the session's: malformed is a 400, as before.
    await expectProblem(await fetch(url, { headers: { authorization: "Payment %%%" } }), 400, `${PROBLEMS}malformed-credential`);
  });

  it("test_gateCore_sessionCredential_stillReachesTheSession", async function () {
    const { payer, seller } = suite;
    await suite.chain.mint(payer.address, 1_000_000n);
    const offer = await fetchOffer(url);
    const opened = await payer.openOnChain(seller, 100n * PRICE, randomBytes32());
    const response = await fetch(url, { headers: { authorization: credential(offer.challenge, await payer.openPayload(opened, PRICE), payer.source) } });
    assert.equal(response.status, 200, await response.clone().text());
    assert.deepEqual(await response.json(), { method: "session", units: "1" });
    assert.equal(receiptOf(response).channelId, opened.channelId);
    const payment = payments.at(-1)!;
    assert.ok(payment.method === "session" && payment.channelId === opened.channelId);
  });
});

describe("server e2e: the gate's default methods (every one the currency supports)", function () {
  this.timeout(60_000);
  const suite = sellerChain();

  /** The offers of an unpaid request to a gate on `currency` with `methods` as given (absent: the default). */
  async function offersOf(overrides: Parameters<typeof makeGate>[2]) {
    const { store } = sqliteStore();
    suite.stores.push(store);
    const gate = makeGate(suite.chain, store, overrides);
    const route = gate.session({ amount: PRICE, description: "A photo" });
    const server = await startServer((request) => route.handle(request, async () => Response.json({ served: true })));
    suite.servers.push(server);
    const response = await fetch(`${server.url}/photo`);
    assert.equal(response.status, 402);
    const body = await response.json();
    const required = response.headers.get("payment-required");
    return {
      challenges: parseChallenges(response.headers.get("www-authenticate")!).map(({ method, intent }) => `${method}/${intent}`),
      v2: required === null ? undefined : (decodeX402Header(required) as { x402Version: number; accepts: { network: string; amount: string; extra: unknown }[] }),
      v1: body.x402Version as number | undefined,
    };
  }

  it("test_defaultMethods_eip3009Currency_offersSessionChargeAndX402", async function () {
    const { challenges, v2, v1 } = await offersOf({});
    assert.deepEqual(challenges, ["evm/session", "evm/charge"]);
    assert.equal(v2?.x402Version, 2);
    assert.deepEqual(v2?.accepts.map(({ network, amount, extra }) => ({ network, amount, extra })), [
      { network: `eip155:${suite.chain.chain.id}`, amount: PRICE.toString(), extra: { name: "Mock USD Coin", version: "1" } },
    ]);
    assert.equal(v1, 1, "the x402 v1 offer is in the problem body");
  });

  it("test_defaultMethods_currencyWithoutEip3009_offersTheSessionOnly", async function () {
    const artifact = await hre.artifacts.readArtifact("NoopTransferToken");
    const deployer = createWalletClient({ chain: suite.chain.chain, transport: http(suite.chain.rpcUrl), account: suite.chain.account(0) });
    const hash = await deployer.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode as Hex });
    const currency = (await suite.chain.publicClient.waitForTransactionReceipt({ hash })).contractAddress!;
    const { challenges, v2, v1 } = await offersOf({ currency });
    assert.deepEqual(challenges, ["evm/session"]);
    assert.equal(v2, undefined, "no PAYMENT-REQUIRED");
    assert.equal(v1, undefined, "no x402 body");
  });

  it("test_defaultMethods_emptyOrExplicitList_overridesTheDefault", async function () {
    const none = await offersOf({ methods: [] });
    assert.deepEqual(none.challenges, ["evm/session"]);
    assert.equal(none.v2, undefined);
    assert.equal(none.v1, undefined);
    const x402Only = await offersOf({ methods: [x402({ versions: [2] })] });
    assert.deepEqual(x402Only.challenges, ["evm/session"]);
    assert.equal(x402Only.v2?.x402Version, 2);
    assert.equal(x402Only.v1, undefined);
  });
});
