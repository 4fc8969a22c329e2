// Issue 10, seller configuration: prices a person can read ("0.01" or 10_000n), every misconfiguration
// refused with a typed error naming the option and the value (synchronously at creation, or against the
// chain in `gate.ready()`), a gate that failed its checks answering 503 rather than crashing, and the
// billing rule (only responses below 400 are charged by default).
import assert from "node:assert/strict";
import { type Address, defineChain, http, maxUint128 } from "viem";
import { ConfigurationError } from "../../../sdk/src/errors/ConfigurationError.js";
import type { PaidHandler, PaymentGate, PaymentGateParameters, SessionRoute } from "../../../sdk/src/server/index.js";
import {
  countingTransport,
  credential,
  fetchOffer,
  makeGate,
  pay,
  randomBytes32,
  receiptOf,
  SECRET,
  sellerChain,
  sqliteStore,
  startServer,
} from "./helpers.js";

// Hardhat's well-known test key 0: never a real secret, but the gate must not echo it either.
const TEST_PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/** Runs `make` and returns the ConfigurationError it throws, asserting its option and that its message names it. */
function configurationError(make: () => unknown, option: string): ConfigurationError {
  let thrown: unknown;
  try {
    make();
  } catch (error) {
    thrown = error;
  }
  return assertConfigurationError(thrown, option);
}

async function readyError(gate: PaymentGate, option: string): Promise<ConfigurationError> {
  let thrown: unknown;
  try {
    await gate.ready();
  } catch (error) {
    thrown = error;
  }
  return assertConfigurationError(thrown, option);
}

function assertConfigurationError(thrown: unknown, option: string): ConfigurationError {
  assert.ok(thrown instanceof ConfigurationError, `expected a ConfigurationError about \`${option}\`, got ${String(thrown)}`);
  assert.equal(thrown.option, option);
  assert.ok(thrown.message.includes(`\`${option}\``), `the message names the option: ${thrown.message}`);
  return thrown;
}

describe("server e2e: configuration checked at creation and in ready()", function () {
  this.timeout(120_000);
  const suite = sellerChain();
  const gateWith = (overrides: Partial<PaymentGateParameters> = {}) => {
    const { store } = sqliteStore();
    suite.stores.push(store);
    return makeGate(suite.chain, store, overrides);
  };

  it("test_configuration_refusesPricesThatAreNotPositiveAmounts", function () {
    const gate = gateWith({ decimals: 6 });
    const refused: [unknown, string][] = [
      [0n, "0"],
      [-5n, "-5"],
      [maxUint128 + 1n, String(maxUint128 + 1n)],
      [0.01, "0.01"],
      [10_000, "10000"],
      ["0", '"0"'],
      ["0.000", '"0.000"'],
      ["-0.01", '"-0.01"'],
      ["1e-2", '"1e-2"'],
      [" 0.01", '" 0.01"'],
      ["$0.01", '"$0.01"'],
      ["0.01 USDC", '"0.01 USDC"'],
      ["USDC", '"USDC"'],
      ["0.0000001", '"0.0000001"'], // 7 decimal places; the token has 6
      [undefined, "undefined"],
    ];
    for (const [amount, shown] of refused) {
      const error = configurationError(() => gate.session({ amount: amount as bigint }), "amount");
      assert.ok(error.message.includes(shown), `the message names the value ${shown}: ${error.message}`);
    }
    // A plain number gets the two spellings that work.
    assert.match(configurationError(() => gate.session({ amount: 0.01 as unknown as bigint }), "amount").message, /"0\.01".*10_000n|10_000n.*"0\.01"/);
    // The other money options of a route go through the same checks.
    configurationError(() => gate.session({ amount: "0.01", suggestedDeposit: "lots" }), "suggestedDeposit");
    configurationError(() => gate.session({ amount: "0.01", minVoucherDelta: -1n }), "minVoucherDelta");
    configurationError(() => gate.session({ amount: "0.01", minRelayedDeposit: 5 as unknown as bigint }), "minRelayedDeposit");
  });

  it("test_configuration_readsDecimalStringsAndBaseUnits", function () {
    const gate = gateWith({ decimals: 6 });
    assert.equal(gate.session({ amount: "0.01" }).request.amount, 10_000n);
    assert.equal(gate.session({ amount: 10_000n }).request.amount, 10_000n);
    // The seed scenario's smallest per-token price.
    assert.equal(gate.session({ amount: "0.001", unitType: "llm_token" }).request.amount, 1_000n);
    assert.equal(gate.session({ amount: "0.000001" }).request.amount, 1n);
    const route = gate.session({ amount: "0.01", suggestedDeposit: "5", minVoucherDelta: "0", minRelayedDeposit: "0.5" });
    assert.deepEqual([route.request.suggestedDeposit, route.request.methodDetails.minVoucherDelta], [5_000_000n, undefined]);
  });

  it("test_configuration_readyReadsTheTokenDecimalsForDecimalPrices", async function () {
    const gate = gateWith();
    const route = gate.session({ amount: "0.01" });
    // Before ready() the gate does not know what "0.01" is in base units, and says so.
    configurationError(() => route.request, "amount");
    await gate.ready();
    assert.equal(route.request.amount, 10_000n);
    // Routes made after ready() are priced at once, and refused at once.
    assert.equal(gate.session({ amount: "0.001" }).request.amount, 1_000n);
    configurationError(() => gate.session({ amount: "0.0000001" }), "amount");

    const tooPrecise = gateWith();
    tooPrecise.session({ amount: "0.0000001" });
    const error = await readyError(tooPrecise, "amount");
    assert.ok(error.message.includes('"0.0000001"') && error.message.includes("6"), error.message);
  });

  it("test_configuration_refusesAMissingOrShortSecretNamingTheOptionAndTheVariable", function () {
    for (const secret of [undefined, "", "too short for an HMAC key", new Uint8Array(31), 42]) {
      const error = configurationError(() => gateWith({ secret: secret as string }), "secret");
      assert.ok(error.message.includes("TOLLGATE_SECRET"), error.message);
      if (typeof secret === "string" && secret !== "") assert.ok(!error.message.includes(secret), "the secret is not echoed");
    }
    gateWith({ secret: new Uint8Array(32) });
  });

  it("test_configuration_refusesAPrivateKeyStringAsTheAccount", function () {
    const error = configurationError(() => gateWith({ account: TEST_PRIVATE_KEY as never }), "account");
    assert.match(error.message, /privateKeyToAccount/);
    assert.ok(!error.message.toLowerCase().includes(TEST_PRIVATE_KEY.slice(2, 20)), "the key is not echoed");
    configurationError(() => gateWith({ account: suite.seller as never }), "account");
    configurationError(() => gateWith({ account: undefined as never }), "account");
  });

  it("test_configuration_refusesValuesThatAreNotAddresses", function () {
    for (const option of ["currency", "escrow", "recipient"] as const) {
      for (const value of ["USDC", "0x1234", 42]) {
        const error = configurationError(() => gateWith({ [option]: value as Address }), option);
        assert.ok(error.message.includes(String(value)), error.message);
      }
    }
    configurationError(() => gateWith({ chain: { ...suite.chain.chain, id: -1 } }), "chain");
    configurationError(() => gateWith({ decimals: 6.5 }), "decimals");
    configurationError(() => gateWith({ billable: 400 as never }), "billable");
  });

  it("test_configuration_refusesARecipientOtherThanTheAccount", function () {
    const other = suite.chain.account(3).address;
    const error = configurationError(() => gateWith({ recipient: other }), "recipient");
    assert.ok(error.message.includes(other) && /not supported/.test(error.message), error.message);
    // The account's own address, in any case, is the default and accepted.
    gateWith({ recipient: suite.seller.toLowerCase() as Address });
  });

  it("test_configuration_readyRefusesAChainWhoseIdTheRpcDoesNotHave", async function () {
    const base = defineChain({ ...suite.chain.chain, id: 8453, name: "Base" });
    const error = await readyError(gateWith({ chain: base, transport: http(suite.chain.rpcUrl) }), "chain");
    for (const part of [suite.chain.rpcUrl, "31337", "8453"]) assert.ok(error.message.includes(part), `${part} in: ${error.message}`);
  });

  it("test_configuration_readyRefusesAnEscrowWithoutCodeOrThatIsNoEscrow", async function () {
    const nowhere = `0x${randomBytes32().slice(2, 42)}` as Address;
    const error = await readyError(gateWith({ escrow: nowhere }), "escrow");
    assert.ok(error.message.toLowerCase().includes(nowhere.toLowerCase()), error.message);
    // A contract that is not an escrow (the token) has no grace period to read.
    const notAnEscrow = await readyError(gateWith({ escrow: suite.chain.token }), "escrow");
    assert.ok(notAnEscrow.message.includes(suite.chain.token), notAnEscrow.message);
  });

  it("test_configuration_readyRefusesACurrencyThatIsNotAContractOrHasOtherDecimals", async function () {
    const nowhere = `0x${randomBytes32().slice(2, 42)}` as Address;
    const error = await readyError(gateWith({ currency: nowhere }), "currency");
    assert.ok(error.message.toLowerCase().includes(nowhere.toLowerCase()), error.message);
    // The escrow is a contract but not an ERC-20: it has no decimals() to read.
    await readyError(gateWith({ currency: suite.chain.escrow }), "currency");
    const wrong = await readyError(gateWith({ decimals: 18 }), "decimals");
    assert.ok(wrong.message.includes("18") && wrong.message.includes("6"), wrong.message);
  });

  it("test_configuration_readyPassesOnceAndIsCached", async function () {
    const { transport, calls } = countingTransport(suite.chain.rpcUrl);
    const gate = gateWith({ transport, decimals: 6 });
    await Promise.all([gate.ready(), gate.ready()]);
    // Concurrent callers share one check: chain id, escrow code and grace period, currency code and
    // decimals; then the default methods' EIP-3009 probe (authorizationState) and the token's EIP-712
    // domain, read once for the probe, charge and x402.
    assert.deepEqual(calls, ["eth_chainId", "eth_getCode", "eth_call", "eth_getCode", "eth_call", "eth_call", "eth_call"]);
    const made = calls.length;
    await gate.ready();
    assert.equal(calls.length, made, "a second ready() asks the chain nothing");
  });

  it("test_configuration_aGateThatFailedItsChecksAnswers503WithoutSecrets", async function () {
    const base = defineChain({ ...suite.chain.chain, id: 8453, name: "Base" });
    const gate = gateWith({ chain: base, transport: http(suite.chain.rpcUrl) });
    const route = gate.session({ amount: 10_000n });
    let ran = false;
    const server = await startServer((request) => route.handle(request, () => ((ran = true), Response.json({ ok: true }))));
    suite.servers.push(server);
    for (const authorization of [undefined, "Payment e30"]) {
      const response = await fetch(`${server.url}/paid`, authorization ? { headers: { authorization } } : {});
      const text = await response.text();
      assert.equal(response.status, 503, text);
      assert.equal(response.headers.get("content-type"), "application/problem+json");
      assert.equal(JSON.parse(text).status, 503);
      assert.ok(!text.includes(SECRET) && !text.includes(suite.chain.rpcUrl), text);
    }
    assert.equal(ran, false);
  });
});

describe("server e2e: decimal prices and the billing rule", function () {
  this.timeout(120_000);
  const suite = sellerChain();

  /** A gate (options `overrides`) serving `/ok` (200) and `/missing` (404) under one route, and a channel on it. */
  async function serveWithChannel(overrides: Partial<PaymentGateParameters>, route: (gate: PaymentGate) => SessionRoute) {
    const { store } = sqliteStore();
    suite.stores.push(store);
    const gate = makeGate(suite.chain, store, overrides);
    const paid = route(gate);
    const handler: PaidHandler = (request) =>
      new URL(request.url).pathname === "/missing" ? Response.json({ error: "no such item" }, { status: 404 }) : Response.json({ ok: true });
    const server = await startServer((request) => paid.handle(request, handler));
    suite.servers.push(server);
    const offer = await fetchOffer(`${server.url}/ok`);
    const price = offer.request.amount;
    const opened = await suite.payer.openOnChain(suite.seller, 10n * price);
    let cumulative = 0n;
    /** Pays `path` with a voucher one price higher than the last. */
    const payFor = async (path: string) => {
      cumulative += price;
      const payload = cumulative === price ? await suite.payer.openPayload(opened, cumulative) : await suite.payer.voucher(opened.channelId, cumulative);
      return pay(`${server.url}${path}`, credential(offer.challenge, payload, suite.payer.source));
    };
    return { store, offer, price, channelId: opened.channelId, payFor };
  }

  it("test_configuration_decimalPriceChargesExactBaseUnitsOfTheToken", async function () {
    // No `decimals` option: the gate reads the mock USDC's 6 decimals in ready(), awaited by handle.
    const { store, offer, channelId, payFor } = await serveWithChannel({}, (gate) => gate.session({ amount: "0.01" }));
    assert.equal(offer.request.amount, 10_000n);
    const response = await payFor("/ok");
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(receiptOf(response).spent, "10000");
    assert.equal((await store.getChannel(channelId))?.spent, 10_000n);
  });

  it("test_billing_aHandler404IsNotBilledA200Is", async function () {
    const { store, price, channelId, payFor } = await serveWithChannel({}, (gate) => gate.session({ amount: 10_000n }));
    const missing = await payFor("/missing");
    assert.equal(missing.status, 404);
    assert.equal(receiptOf(missing).spent, "0");
    const ok = await payFor("/ok");
    assert.equal(ok.status, 200);
    assert.equal(receiptOf(ok).spent, String(price));
    const channel = await store.getChannel(channelId);
    assert.deepEqual([channel?.spent, channel?.units, channel?.reserved], [price, 1n, 0n]);
  });

  it("test_billing_theRuleIsConfigurablePerGateAndPerRoute", async function () {
    // A gate that bills every delivered response below 500 (the old rule).
    const gateWide = await serveWithChannel({ billable: (status) => status < 500 }, (gate) => gate.session({ amount: 10_000n }));
    assert.equal(receiptOf(await gateWide.payFor("/missing")).spent, "10000");
    // A route's own rule wins over the gate's: only 200 is billed.
    const routeOnly200 = await serveWithChannel({ billable: (status) => status < 500 }, (gate) => gate.session({ amount: 10_000n, billable: (status) => status === 200 }));
    assert.equal(receiptOf(await routeOnly200.payFor("/missing")).spent, "0");
    assert.equal(receiptOf(await routeOnly200.payFor("/ok")).spent, "10000");
  });
});
