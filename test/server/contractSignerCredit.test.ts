// Issue 8, item 3: the credit a contract wallet's channel gets before settlement must catch up. The
// cases the end-to-end test (settlementHostile.test.ts) does not reach: no limit, an idle request
// (nothing to pay), one request on a settled channel above the credit, and the request that brings
// `spent` up to a voucher already held (after a released 5xx), which must pass so settlement can run.
import assert from "node:assert/strict";
import { PaymentProblemError } from "../../sdk/src/protocol/problems.js";
import { assertContractSignerCredit } from "../../sdk/src/server/methods/session/contractSignerCredit.js";
import { makeChannel, newChannelId } from "./store/storeFixtures.js";

const credit = 3_000n;

function refused(run: () => void) {
  assert.throws(run, (error: unknown) => error instanceof PaymentProblemError && error.problem === "settlement-pending" && error.toProblemDetails().status === 429);
}

describe("contractSignerCredit", function () {
  it("test_contractSignerCredit_boundsWhatIsDeliveredAndNotSettled", function () {
    const channel = makeChannel(newChannelId(), { settledOnChain: 1_000n, spent: 3_000n, reserved: 500n, acceptedCumulative: 3_500n });
    // 2 500 unsettled: 500 more fits, 501 does not.
    assertContractSignerCredit({ channel, cost: 500n, credit });
    refused(() => assertContractSignerCredit({ channel, cost: 501n, credit }));
    // Costing nothing, or with the limit off, nothing is refused.
    assertContractSignerCredit({ channel, cost: 0n, credit });
    assertContractSignerCredit({ channel, cost: 10_000n, credit: null });
  });

  it("test_contractSignerCredit_oneRequestOnASettledChannelAndOneThatCatchesUpWithTheVoucher", function () {
    // Everything delivered is settled: one request is served whatever it costs.
    assertContractSignerCredit({ channel: makeChannel(newChannelId(), { settledOnChain: 2_000n, spent: 2_000n, acceptedCumulative: 2_000n }), cost: 5_000n, credit });
    // A released 5xx left the voucher one request above `spent`: the request that uses it passes (it
    // lets settlement, which takes only what was delivered, catch up); one beyond it does not.
    const released = makeChannel(newChannelId(), { settledOnChain: 0n, spent: 3_000n, acceptedCumulative: 4_000n });
    assertContractSignerCredit({ channel: released, cost: 1_000n, credit });
    refused(() => assertContractSignerCredit({ channel: released, cost: 2_000n, credit }));
    // A voucher signed far ahead (prepaid) does not lift the limit.
    refused(() => assertContractSignerCredit({ channel: { ...released, acceptedCumulative: 90_000n }, cost: 1_000n, credit }));
  });
});
