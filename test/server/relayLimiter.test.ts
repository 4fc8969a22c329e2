// The fee-paying gate's rate limit on relayed transactions (issue 8, item 5): a token bucket per payer
// and per channel, on an injected clock so that nothing here depends on speed.
import assert from "node:assert/strict";
import { createRelayLimiter } from "../../sdk/src/server/createRelayLimiter.js";
import { PaymentProblemError } from "../../sdk/src/protocol/problems.js";

describe("relay rate limit", function () {
  it("test_relayLimiter_allowsABurstThenOnePerIntervalPerKey", function () {
    let clock = 0;
    const limiter = createRelayLimiter({ burst: 2, interval: 10_000, now: () => clock });
    limiter.take(["payer", "channel-1"]);
    limiter.take(["payer", "channel-2"]);
    // The payer's allowance is spent, whatever channel it asks for.
    const refused = (() => {
      try {
        limiter.take(["payer", "channel-3"]);
      } catch (error) {
        return error;
      }
    })();
    assert.ok(refused instanceof PaymentProblemError);
    assert.equal(refused.status, 429);
    assert.equal(refused.toProblemDetails().type, "about:blank");
    assert.equal(refused.retryAfter, 10);
    // A refusal takes nothing from the other keys: channel-3 still has its whole burst.
    limiter.take(["other payer", "channel-3"]);
    limiter.take(["third payer", "channel-3"]);
    assert.throws(() => limiter.take(["fourth payer", "channel-3"]), PaymentProblemError);
    // Half an interval later the payer has half a transaction: still refused, with the rest to wait.
    clock = 5_000;
    assert.throws(() => limiter.take(["payer", "channel-4"]), (error: PaymentProblemError) => error.retryAfter === 5);
    clock = 10_000;
    limiter.take(["payer", "channel-4"]);
    assert.throws(() => limiter.take(["payer", "channel-5"]), PaymentProblemError);
  });
});
