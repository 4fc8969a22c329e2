// The gate's core reads a request's `Authorization: Payment …` credential once and parses it at most
// once: every method's `claims` and the claimant's `authorize` get the same credential, whose parse (or
// malformed-credential error) is shared. Driven through createGateRoute with recording methods, no chain.
import assert from "node:assert/strict";
import { formatCredential, type PaymentCredential } from "../../sdk/src/protocol/credential.js";
import { PaymentProblemError } from "../../sdk/src/protocol/problems.js";
import { createGateRoute } from "../../sdk/src/server/core/createGateRoute.js";
import type { Readiness } from "../../sdk/src/server/core/createReadiness.js";
import type { GateContext, GateMethod, MethodRequest, PaymentCredentialInput, PaymentMethodName } from "../../sdk/src/server/core/GateMethod.js";

type Seen = { method: PaymentMethodName; step: "claims" | "authorize"; credential: PaymentCredentialInput | undefined; parsed?: PaymentCredential; error?: unknown };

/** A method that parses whatever credential it is shown and records it; claims `Payment` credentials of `method` (the session: every one). */
function recordingMethod(name: PaymentMethodName, seen: Seen[], claimed: (credential: PaymentCredential) => boolean): GateMethod {
  const look = (step: Seen["step"], { credential }: MethodRequest): Seen => {
    const record: Seen = { method: name, step, credential };
    try {
      if (credential) record.parsed = credential.parsed();
    } catch (error) {
      record.error = error;
    }
    seen.push(record);
    return record;
  };
  return {
    name,
    offer: () => ({ wwwAuthenticate: [`Payment id="${name}"`] }),
    claims(input) {
      const record = look("claims", input);
      return name === "session" ? input.credential !== undefined : record.parsed !== undefined && claimed(record.parsed);
    },
    async authorize(input) {
      const record = look("authorize", input);
      return { response: new Response(null, { status: record.error ? 400 : 204 }) };
    },
  };
}

describe("server: the gate's core hands every method one parse of the credential", function () {
  const seen: Seen[] = [];
  const context = { currency: `0x${"11".repeat(20)}`, recipient: `0x${"22".repeat(20)}`, chainId: 31337 } as GateContext;
  const readiness: Readiness = { ready: async () => undefined, decimals: () => 6, whenReady: () => undefined };
  const route = createGateRoute({
    route: { amount: 1_000n },
    context,
    billable: () => true,
    readiness,
    methods: [
      recordingMethod("session", seen, () => true),
      recordingMethod("x402", seen, () => false),
      recordingMethod("charge", seen, ({ challenge }) => challenge.intent === "charge"),
    ],
  });
  const header = (intent: string) => formatCredential({ challenge: { id: "id-1", realm: "api", method: "evm", intent, request: "e30" }, payload: { action: "voucher" } });
  const send = async (authorization?: string) => {
    seen.length = 0;
    const authorized = await route.authorize(new Request("http://gate.test/photo", authorization === undefined ? {} : { headers: { authorization } }));
    return authorized.response!.status;
  };

  it("test_gateCore_paymentCredential_isParsedOnceForEveryClaimAndTheAuthorize", async function () {
    assert.equal(await send(header("session")), 204);
    assert.deepEqual(
      seen.map(({ method, step }) => `${method}.${step}`),
      ["x402.claims", "charge.claims", "session.claims", "session.authorize"],
    );
    const [first] = seen;
    assert.equal(first!.credential?.header, header("session"));
    for (const record of seen) {
      assert.equal(record.credential, first!.credential, `${record.method}.${record.step} got the request's one credential`);
      assert.equal(record.parsed, first!.parsed, `${record.method}.${record.step} got the one parse`);
    }
    assert.equal(first!.parsed!.challenge.intent, "session");
  });

  it("test_gateCore_claimedByAnAddedMethod_itsAuthorizeGetsTheParseItsClaimMade", async function () {
    assert.equal(await send(header("charge")), 204);
    assert.deepEqual(
      seen.map(({ method, step }) => `${method}.${step}`),
      ["x402.claims", "charge.claims", "charge.authorize"],
    );
    assert.equal(seen[2]!.parsed, seen[1]!.parsed);
  });

  it("test_gateCore_eachRequestGetsItsOwnParse", async function () {
    await send(header("session"));
    const before = seen[0]!.parsed;
    await send(header("session"));
    assert.notEqual(seen[0]!.parsed, before, "the same header on another request is parsed anew: nothing is kept across requests");
    assert.deepEqual(seen[0]!.parsed, before);
  });

  it("test_gateCore_malformedPaymentCredential_everyMethodGetsTheSameProblemAndTheSessionAnswers", async function () {
    assert.equal(await send("Payment %%%"), 400);
    assert.deepEqual(
      seen.map(({ method, step }) => `${method}.${step}`),
      ["x402.claims", "charge.claims", "session.claims", "session.authorize"],
    );
    const { error } = seen[0]!;
    assert.ok(error instanceof PaymentProblemError);
    assert.equal(error.toProblemDetails().type, "https://paymentauth.org/problems/malformed-credential");
    for (const record of seen) assert.equal(record.error, error, `${record.method}.${record.step} got the one parse's error`);
  });

  it("test_gateCore_noPaymentCredential_reachesNoMethodAsACredential", async function () {
    for (const authorization of [undefined, "Bearer token", "Paymentx abc"]) {
      assert.equal(await send(authorization), 402, String(authorization));
      assert.deepEqual(
        seen.map(({ method, step, credential }) => `${method}.${step}:${credential}`),
        ["x402.claims:undefined", "charge.claims:undefined", "session.claims:undefined"],
      );
    }
  });
});
