// Issue 12: what a paid request costs the PostgreSQL store, counted in round trips (queries sent on the
// store's connections) through the real gate, HTTP server and chain, so that the count covers whatever
// the request path does with the store, not just one withChannel.
import assert from "node:assert/strict";
import pg from "pg";
import { createPostgresStore } from "../../../sdk/src/server/postgres.js";
import { countingPool } from "../store/countingPool.js";
import { credential, fetchOffer, makeGate, pay, POSTGRES_URL, receiptOf, sellerChain, startServer } from "./helpers.js";

const PRICE = 1_000n;

describe("server e2e: round trips of a paid request on PostgreSQL", function () {
  this.timeout(90_000);
  const suite = sellerChain();
  const schema = `tollgate_e2e_${process.pid}_${Date.now().toString(36)}_round_trips`;
  const { pool, roundTrips } = countingPool({ connectionString: POSTGRES_URL, max: 4 });
  let url: string;

  before(async function () {
    const store = await createPostgresStore({ pool, schema });
    suite.stores.push(store);
    const route = makeGate(suite.chain, store).session({ amount: PRICE, suggestedDeposit: 100n * PRICE });
    const server = await startServer((request) => route.handle(request, async () => Response.json({ served: true })));
    suite.servers.push(server);
    url = `${server.url}/item`;
  });

  after(async function () {
    await pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    await pool.end();
  });

  it("test_postgresPaidRequestTakesTwoRoundTrips", async () => {
    // Reserve mode, a plain voucher on a channel this gate knows: admitted from the gate's view of the
    // channel, then one write once the handler answered (lock and read the channel; write the voucher and
    // the charge, commit). It was 4 (the admission wrote and committed a reservation first), and 5 before.
    const { payer, seller } = suite;
    const { challenge } = await fetchOffer(url);
    const opened = await payer.openOnChain(seller, 100n * PRICE);
    const open = await pay(url, credential(challenge, await payer.openPayload(opened, PRICE), payer.source));
    assert.equal(open.status, 200, await open.clone().text());
    await open.body?.cancel();
    for (let i = 2n; i <= 4n; i++) {
      const voucher = credential(challenge, await payer.voucher(opened.channelId, i * PRICE));
      let response!: Response;
      const count = await roundTrips(async () => (response = await pay(url, voucher)));
      assert.equal(response.status, 200, await response.clone().text());
      assert.equal(receiptOf(response).spent, String(i * PRICE));
      await response.body?.cancel();
      assert.equal(count, 2, `paid request ${i}`);
    }
  });
});
