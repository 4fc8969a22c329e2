// Tollgate's paying client buying from a tollgate gate with each one-time method: the two sides were each
// proven against the third-party peer (mppx, @x402/*); this proves they agree with each other too.
import assert from "node:assert/strict";
import { type Address, http, isAddressEqual } from "viem";
import { createPayingFetch } from "../../../sdk/src/client/index.js";
import { charge, type GateMethodFactory, x402 } from "../../../sdk/src/server/index.js";
import { buyTwice, PRICE, startOneTimeGate } from "./oneTimeFixture.js";
import { sellerChain } from "./helpers.js";

/** An escrow this client does not trust: it refuses the session and pays one request at a time. */
const UNTRUSTED_ESCROW = "0x00000000000000000000000000000000000000e5" as Address;

describe("tollgate's client and gate, one-time methods", function () {
  this.timeout(60_000);
  const suite = sellerChain();

  const cases: { name: string; methods: GateMethodFactory[]; method: "charge" | "x402"; x402Version?: 1 | 2 }[] = [
    { name: "test_ownClient_paysTheGatesChargeOfferTwice", methods: [charge(), x402()], method: "charge" },
    { name: "test_ownClient_paysTheGatesX402V2OfferTwice", methods: [x402({ versions: [2] })], method: "x402", x402Version: 2 },
    { name: "test_ownClient_paysTheGatesX402V1OfferTwice", methods: [x402({ versions: [1] })], method: "x402", x402Version: 1 },
  ];
  for (const { name, methods, method, x402Version } of cases) {
    it(name, async () => {
      const { url, store, served } = await startOneTimeGate(suite, methods);
      const pay = createPayingFetch({
        account: suite.chain.account(2),
        chain: suite.chain.chain,
        transport: http(suite.chain.rpcUrl),
        maxDeposit: 10n * PRICE,
        escrows: [UNTRUSTED_ESCROW],
        currencies: [suite.chain.token],
      });
      await buyTwice(suite, pay, url, served);
      // Both sides recorded the same two payments: the gate settled them, the client counts them spent.
      const settled = await store.listPayments({ status: "settled" });
      const paid = await pay.payments();
      assert.equal(settled.length, 2);
      assert.deepEqual(paid.map((payment) => [payment.method, payment.x402Version]), [[method, x402Version], [method, x402Version]]);
      assert.deepEqual(new Set(paid.map((payment) => payment.nonce.toLowerCase())), new Set(settled.map((payment) => payment.nonce.toLowerCase())));
      assert.ok(settled.every((payment) => isAddressEqual(payment.payer, suite.payer.address)));
      assert.equal(await pay.totalSpent(), 2n * PRICE);
      assert.equal((await pay.channels()).length, 0);
    });
  }
});
