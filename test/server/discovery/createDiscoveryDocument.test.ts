// The discovery document of tollgate/server against mppx 0.11.0's own discovery code: its validator
// accepts it, and its generator, given the same canonical requests, writes the same operations.
import assert from "node:assert/strict";
import { generate, validate } from "mppx/discovery";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { ConfigurationError, createDiscoveryDocument, createMemoryStore, createPaymentGate } from "../../../sdk/src/server/index.js";
import { formatSessionRequest } from "../../../sdk/src/session/request.js";

const account = privateKeyToAccount(`0x${"22".repeat(32)}`);
const currency = "0x888825723b8422ec705Ccc86Fe33d8Be7AF3C62a";
const gate = createPaymentGate({
  chain: hardhat,
  escrow: "0x9DaF800eA98cf46220CcD18226E42Afb8bac59e9",
  currency,
  account,
  store: createMemoryStore(),
  secret: "x".repeat(32),
  decimals: 6,
});
const photo = gate.session({ amount: "0.01", unitType: "photo", description: "One photo" });
const tokens = gate.session({ amount: 1_000n, unitType: "llm_token" });

describe("createDiscoveryDocument", () => {
  it("test_discovery_document_readByMppxValidator_withPriceUnitCurrencyAndMethod", () => {
    const document = createDiscoveryDocument({
      info: { title: "Photo API" },
      routes: [
        { path: "/photos/:id", method: "GET", route: photo, summary: "A photo" },
        { path: "/complete", method: "post", route: tokens, requestBody: { content: { "application/json": { schema: { type: "object" } } } } },
      ],
      serviceInfo: { categories: ["media"], docs: { homepage: "https://example.com" } },
    });
    assert.deepEqual(validate(document), []);
    assert.equal(document.openapi, "3.1.0");
    assert.deepEqual(document.info, { title: "Photo API", version: "1.0.0" });
    const operation = document.paths["/photos/{id}"]!.get!;
    assert.ok("402" in operation.responses);
    assert.deepEqual(operation["x-payment-info"].offers, [
      { amount: "10000", currency, description: "One photo", intent: "session", method: "evm", unitType: "photo", suggestedDeposit: "1000000", recipient: account.address },
    ]);
    assert.equal(document.paths["/complete"]!.post!["x-payment-info"].offers[0]!.unitType, "llm_token");
    assert.deepEqual(JSON.parse(JSON.stringify(document)), document, "plain JSON: no bigint, nothing lost");
  });

  it("test_discovery_document_sameOperationsAsMppxGenerate", () => {
    // mppx builds an operation from a handler's method, intent and canonical request; give it tollgate's.
    const handlerOf = (route: typeof photo) =>
      Object.assign(() => undefined, { _internal: { _canonicalRequest: formatSessionRequest(route.request), intent: "session", name: "evm" } });
    const routes = [
      { path: "/photos/{id}", method: "get", route: photo, summary: "A photo" },
      { path: "/tokens", method: "get", route: [tokens, photo] },
    ];
    const ours = createDiscoveryDocument({ info: { title: "t", version: "2" }, routes });
    const theirs = generate(
      { methods: [], realm: "t" },
      { info: { title: "t", version: "2" }, routes: routes.map(({ route, ...rest }) => ({ ...rest, handler: handlerOf((Array.isArray(route) ? route[0] : route) as typeof photo) })) },
    ) as { paths: Record<string, Record<string, unknown>> };
    assert.deepEqual(ours.paths["/photos/{id}"], theirs.paths["/photos/{id}"]);
    // Two accepted methods on one URL: one offer each, as mppx's composed handlers list them.
    const composed = generate(
      { methods: [], realm: "t" },
      { routes: [{ path: "/tokens", method: "get", handler: Object.assign(() => undefined, { _internal: { offers: [handlerOf(tokens)._internal, handlerOf(photo)._internal] } }) }] },
    ) as { paths: Record<string, Record<string, unknown>> };
    assert.deepEqual(ours.paths["/tokens"], composed.paths["/tokens"]);
  });

  it("test_discovery_document_badRoutes_refusedWithConfigurationError", () => {
    const refused = (route: Parameters<typeof createDiscoveryDocument>[0]["routes"][number], pattern: RegExp) =>
      assert.throws(() => createDiscoveryDocument({ info: { title: "t" }, routes: [route, route] }), (error: unknown) => {
        assert.ok(error instanceof ConfigurationError);
        assert.match(error.message, pattern);
        return true;
      });
    refused({ path: "/a", method: "FETCH", route: photo }, /FETCH is not an HTTP method/);
    refused({ path: "a", method: "GET", route: photo }, /starts with "\/"/);
    refused({ path: "/a", method: "GET", route: [] }, /no paid route/);
    refused({ path: "/a", method: "GET", route: photo }, /listed twice/);
  });
});
