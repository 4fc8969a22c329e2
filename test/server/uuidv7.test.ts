// Generated charge keys are UUIDv7s: unique, and in creation order, so the charges' index grows at its end.
import assert from "node:assert/strict";
import { generatedChargeKey } from "../../sdk/src/server/idempotency.js";
import { uuidv7 } from "../../sdk/src/server/uuidv7.js";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("uuidv7", function () {
  it("test_uuidv7_carriesTheTimeVersionAndVariantOfRfc9562", function () {
    const id = uuidv7(0x0191_2345_6789);
    assert.match(id, UUID_V7);
    assert.equal(id.slice(0, 13), "01912345-6789");
    assert.equal(uuidv7(0).slice(0, 13), "00000000-0000");
    assert.equal(uuidv7(2 ** 48 - 1).slice(0, 13), "ffffffff-ffff");
  });

  it("test_uuidv7_sortsByTimeAndNeverRepeats", function () {
    const ids = Array.from({ length: 1000 }, (_, i) => uuidv7(1_700_000_000_000 + i));
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(Array.from({ length: 10_000 }, () => uuidv7(1_700_000_000_000))).size, 10_000);
  });

  it("test_generatedChargeKey_isATimeOrderedUuid", async function () {
    const first = generatedChargeKey();
    await new Promise((resolve) => setTimeout(resolve, 2));
    const second = generatedChargeKey();
    assert.match(first, /^request:/);
    assert.match(first.slice("request:".length), UUID_V7);
    assert.ok(second > first, `${second} sorts after ${first}`);
  });
});
