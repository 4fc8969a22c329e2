// Issue 4, item 6: many paid requests at once on one channel, vouchers arriving out of order, on the
// SQLite and the PostgreSQL store. The same balance is never spent twice: spent + reserved never passes
// acceptedCumulative, and successes × price is exactly what is spent.
import assert from "node:assert/strict";
import type { Address } from "viem";
import type { SessionPayload } from "../../../sdk/src/session/payload.js";
import type { SessionStore } from "../../../sdk/src/server/index.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import {
  credential,
  expectProblem,
  fetchOffer,
  makeGate,
  type Offer,
  pay,
  Payer,
  postgresSchemas,
  receiptOf,
  SELLER,
  SESSION_PROBLEMS,
  shuffle,
  snapshot,
  sqliteStore,
  startServer,
  type TestServer,
} from "./helpers.js";

const PRICE = 1_000n;
const REQUESTS = 50;

describe("server e2e: concurrent requests on one channel", function () {
  this.timeout(90_000);
  let chain: LocalChain;
  let seller: Address;
  let payer: Payer;
  const postgres = postgresSchemas();
  const servers: TestServer[] = [];
  const stores: SessionStore[] = [];

  before(async function () {
    await postgres.assertReachable();
    chain = await startLocalChain();
    seller = chain.account(SELLER).address;
    payer = new Payer(chain, chain.account(2));
    await chain.mint(payer.address, 100_000_000n);
  });

  after(async function () {
    for (const server of servers) await server.close();
    for (const store of stores) await store.close();
    await postgres.dropAll();
    await chain?.stop();
  });

  for (const kind of ["sqlite", "postgres"] as const) {
    it(`test_concurrency_${kind}_fiftyParallelRequestsWithOutOfOrderVouchersNeverSpendTwice`, async function () {
      const store = kind === "sqlite" ? sqliteStore().store : (await postgres.create(8)).store;
      stores.push(store);
      const gate = makeGate(chain, store);
      const route = gate.session({ amount: PRICE, suggestedDeposit: 200n * PRICE });
      // A handler that takes a moment, so that requests overlap while holding reservations.
      const server = await startServer((request) =>
        route.handle(request, async () => {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
          return Response.json({ ok: true });
        }),
      );
      servers.push(server);
      const url = `${server.url}/item`;
      const offer: Offer = await fetchOffer(url);
      const opened = await payer.openOnChain(seller, 200n * PRICE);
      const { channelId } = opened;
      const open = await pay(url, credential(offer.challenge, await payer.openPayload(opened, 0n), payer.source), { method: "HEAD" });
      assert.equal(open.status, 204);

      // Watch the store while the requests run.
      let watching = true;
      const violations: string[] = [];
      const watcher = (async () => {
        while (watching) {
          const channel = await store.getChannel(channelId);
          if (channel && channel.spent + channel.reserved > channel.acceptedCumulative) {
            violations.push(`spent ${channel.spent} + reserved ${channel.reserved} > accepted ${channel.acceptedCumulative}`);
          }
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      })();

      // Round 1: vouchers 1..50 units, sent all at once in a shuffled order.
      const vouchers = new Map<number, SessionPayload>();
      for (let i = 1; i <= REQUESTS; i++) vouchers.set(i, await payer.voucher(channelId, BigInt(i) * PRICE));
      const order = shuffle(
        Array.from({ length: REQUESTS }, (_, i) => i + 1),
        0x5eed + (kind === "sqlite" ? 1 : 2),
      );
      const round1 = await Promise.all(order.map((i) => pay(url, credential(offer.challenge, vouchers.get(i)!))));
      const ok1 = await settle(round1);

      // Round 2: 25 more units accepted, then 50 requests all replaying that one voucher: exactly the
      // balance left is served, whatever the interleaving.
      let channel = (await store.getChannel(channelId))!;
      const top = channel.acceptedCumulative + 25n * PRICE;
      const head = await pay(url, credential(offer.challenge, await payer.voucher(channelId, top)), { method: "HEAD" });
      assert.equal(head.status, 204);
      channel = (await store.getChannel(channelId))!;
      const left = (channel.acceptedCumulative - channel.spent) / PRICE;
      const replay = await payer.voucher(channelId, top);
      const round2 = await Promise.all(Array.from({ length: REQUESTS }, () => pay(url, credential(offer.challenge, replay))));
      const ok2 = await settle(round2);
      assert.equal(BigInt(ok2), left, "the balance left was served exactly once");

      watching = false;
      await watcher;
      assert.deepEqual(violations, []);

      channel = (await store.getChannel(channelId))!;
      assert.equal(channel.acceptedCumulative, top);
      assert.equal(channel.spent, BigInt(ok1 + ok2) * PRICE, "successful responses × price == spent");
      assert.equal(channel.spent, channel.acceptedCumulative, "all that was accepted was spent, no more");
      assert.equal(channel.reserved, 0n);
      assert.equal(channel.units, BigInt(ok1 + ok2));
      const charges = (await snapshot(store)).charges.filter((charge) => charge.channelId === channelId);
      assert.equal(charges.filter((charge) => charge.status === "committed").length, ok1 + ok2);
      assert.equal(charges.filter((charge) => charge.status === "reserved").length, 0);
      assert.ok(ok1 >= 1 && ok1 <= REQUESTS);
    });
  }
});

/** Checks every response: 200 with a consistent receipt, or 402 insufficient-balance. Returns the 200s. */
async function settle(responses: Response[]): Promise<number> {
  let ok = 0;
  for (const response of responses) {
    if (response.status === 200) {
      const receipt = receiptOf(response);
      assert.ok(BigInt(receipt.spent) <= BigInt(receipt.acceptedCumulative), `receipt spent ${receipt.spent} > accepted ${receipt.acceptedCumulative}`);
      await response.body?.cancel();
      ok++;
    } else {
      await expectProblem(response, 402, `${SESSION_PROBLEMS}insufficient-balance`);
    }
  }
  return ok;
}

