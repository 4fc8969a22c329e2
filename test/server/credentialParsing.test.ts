// A gate parses each request's credential once and hands that parse to every method that looks at it
// (the charge method's claim check, then the session): what it hands out must be immutable, and each
// header gets its own parse.
import assert from "node:assert/strict";
import { canonicalJson } from "../../sdk/src/protocol/canonicalJson.js";
import { formatCredential, parseCredential } from "../../sdk/src/protocol/credential.js";
import { PaymentProblemError } from "../../sdk/src/protocol/problems.js";

const challenge = { id: "id-1", realm: "api", method: "evm", intent: "session", request: "e30", expires: "2030-01-01T00:00:00Z" };
const header = (payload: Record<string, unknown>) => formatCredential({ challenge, payload });

describe("protocol: credential parsing", function () {
  it("test_credential_repeatedHeaderGivesAnImmutableCredential", function () {
    const value = header({ action: "voucher", channelId: "0x01", cumulativeAmount: "5", deposit: { action: "topUp", nested: ["a"] } });
    const first = parseCredential(value);
    assert.throws(() => ((first.payload as Record<string, unknown>).cumulativeAmount = "999999"), TypeError);
    assert.throws(() => ((first.payload.deposit as Record<string, unknown>).action = "open"), TypeError);
    assert.throws(() => (first.payload.deposit as { nested: string[] }).nested.push("b"), TypeError);
    assert.throws(() => ((first.challenge as Record<string, unknown>).id = "forged"), TypeError);
    const second = parseCredential(value);
    assert.equal(second.payload.cumulativeAmount, "5");
    assert.equal(second.challenge.id, "id-1");
    assert.deepEqual(second, first);
  });

  it("test_credential_eachHeaderGetsItsOwnParse", function () {
    const a = parseCredential(header({ action: "voucher", cumulativeAmount: "1" }));
    const b = parseCredential(header({ action: "voucher", cumulativeAmount: "2" }));
    assert.equal(a.payload.cumulativeAmount, "1");
    assert.equal(b.payload.cumulativeAmount, "2");
    // A malformed header after a good one is refused, not answered with the good one's credential.
    assert.throws(() => parseCredential("Payment !!!"), PaymentProblemError);
    assert.throws(() => parseCredential(`${header({ action: "voucher" })}x`), PaymentProblemError);
    // Surrounding whitespace is a different header string but the same credential.
    assert.deepEqual(parseCredential(` ${header({ action: "voucher", cumulativeAmount: "2" })} `), b);
  });

  it("test_canonicalJson_sortsKeysByCodeUnitsAndDropsUndefinedMembers", function () {
    assert.equal(canonicalJson({ b: 1, a: [true, null, { d: undefined, c: "x" }], é: 2, Z: 3, _: undefined }), '{"Z":3,"a":[true,null,{"c":"x"}],"b":1,"é":2}');
    assert.equal(canonicalJson({ only: undefined }), "{}");
    assert.equal(canonicalJson({ "\ufb33": 2, "\ud83d\ude00": 1 }), '{"\ud83d\ude00":1,"\ufb33":2}');
  });
});
