// The x402 and charge wire formats in both directions: what the server formats, the client parses back
// to the same values, and a hostile value is a typed InvalidValueError, never a crash.
import assert from "node:assert/strict";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import { InvalidValueError } from "../../sdk/src/errors/InvalidValueError.js";
import { formatChargeAuthorizationPayload, formatChargeRequest, parseChargeAuthorizationPayload, parseChargeRequest } from "../../sdk/src/protocol/charge.js";
import {
  decodeX402Header,
  encodeX402Header,
  formatX402PaymentPayload,
  formatX402PaymentRequired,
  parseX402PaymentPayload,
  parseX402PaymentRequired,
  type X402PaymentPayload,
  x402Network,
} from "../../sdk/src/protocol/x402.js";

const TOKEN = "0x036CbD53842c5426634e7929541eC2318f3dCF7e" as const;
const SELLER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as const;
const PAYER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" as const;
const requirements = { scheme: "exact" as const, network: "eip155:84532", amount: 10_000n, asset: TOKEN, payTo: SELLER, maxTimeoutSeconds: 60, extra: { name: "USDC", version: "2" } } as const;
const resource = { url: "https://api.example/photo", description: "one photo", mimeType: "application/json" };
const authorization = { from: PAYER, to: SELLER, value: 10_000n, validAfter: 0n, validBefore: 1_900_000_000n, nonce: `0x${"ab".repeat(32)}` } as const;
const signature = `0x${"cd".repeat(65)}` as const;

describe("x402 and charge wire formats", function () {
  it("test_x402Protocol_networkNamesAreV1sWhereItDefinesThem", () => {
    assert.equal(x402Network(84532, 1), "base-sepolia");
    assert.equal(x402Network(8453, 1), "base");
    assert.equal(x402Network(31337, 1), "eip155:31337");
    assert.equal(x402Network(84532, 2), "eip155:84532");
  });

  it("test_x402Protocol_paymentRequiredRoundTripsAndReadsInX402Core", () => {
    for (const x402Version of [1, 2] as const) {
      const network = x402Network(84532, x402Version);
      const formatted = formatX402PaymentRequired({ x402Version, error: "Payment required", resource, accepts: [{ ...requirements, network }] });
      assert.deepEqual(parseX402PaymentRequired(decodeX402Header(encodeX402Header(formatted))), { x402Version, error: "Payment required", resource, accepts: [{ ...requirements, network }] });
    }
    const v2 = decodePaymentRequiredHeader(encodeX402Header(formatX402PaymentRequired({ x402Version: 2, resource, accepts: [requirements] })));
    assert.equal(v2.accepts[0]?.amount, "10000");
  });

  it("test_x402Protocol_paymentPayloadRoundTripsBothVersions", () => {
    const v2: X402PaymentPayload = { x402Version: 2, scheme: "exact", network: "eip155:84532", accepted: { scheme: "exact", network: "eip155:84532", amount: 10_000n, asset: TOKEN, payTo: SELLER }, authorization, signature };
    assert.deepEqual(parseX402PaymentPayload(decodeX402Header(encodeX402Header(formatX402PaymentPayload(v2)))), v2);
    const v1: X402PaymentPayload = { x402Version: 1, scheme: "exact", network: "base-sepolia", authorization, signature };
    assert.deepEqual(parseX402PaymentPayload(formatX402PaymentPayload(v1)), v1);
  });

  it("test_x402Protocol_hostileValuesAreInvalidValueErrors", () => {
    const good = formatX402PaymentPayload({ x402Version: 1, scheme: "exact", network: "base", authorization, signature });
    const bent = (payload: Record<string, unknown>) => ({ ...good, payload: { ...good.payload, ...payload } });
    const hostile: unknown[] = [
      null,
      [],
      { ...good, x402Version: 3 },
      bent({ signature: "0x12" }),
      bent({ authorization: { ...good.payload.authorization, value: "-1" } }),
      bent({ authorization: { ...good.payload.authorization, value: "1e6" } }),
      bent({ authorization: { ...good.payload.authorization, value: "0x10" } }),
      bent({ authorization: { ...good.payload.authorization, validBefore: "9".repeat(79) } }),
      bent({ authorization: { ...good.payload.authorization, nonce: "0x1234" } }),
      bent({ authorization: { ...good.payload.authorization, to: "0xnot an address" } }),
    ];
    for (const value of hostile) assert.throws(() => parseX402PaymentPayload(value), InvalidValueError, JSON.stringify(value));
    for (const header of ["%%%", "e30=x", btoa("\\xff\\xfe"), "A".repeat(20_000)]) assert.throws(() => decodeX402Header(header), InvalidValueError, header);
  });

  it("test_chargeProtocol_requestAndPayloadRoundTrip", () => {
    const request = { amount: 10_000n, currency: TOKEN, recipient: SELLER, description: "one photo", methodDetails: { chainId: 84532, credentialTypes: ["authorization" as const], decimals: 6 } };
    assert.deepEqual(parseChargeRequest(formatChargeRequest(request)), request);
    const payload = { type: "authorization" as const, ...authorization, signature };
    assert.deepEqual(parseChargeAuthorizationPayload(formatChargeAuthorizationPayload(payload)), payload);
    assert.throws(() => parseChargeAuthorizationPayload({ ...formatChargeAuthorizationPayload(payload), type: "permit2" }), InvalidValueError);
    assert.throws(() => parseChargeRequest({ ...formatChargeRequest(request), methodDetails: { chainId: 1, credentialTypes: ["cash"] } }), InvalidValueError);
  });
});
