// Issue 12: what a paid request costs the PostgreSQL store, counted in round trips (queries sent on the
// store's connections) through the real gate, HTTP server and chain, so that the count covers whatever
// the request path does with the store, not just one withChannel.
import assert from "node:assert/strict";
import pg from "pg";
import type { Address } from "viem";
import type { PaymentGate, SessionStore } from "../../../sdk/src/server/index.js";
import { createPostgresStore } from "../../../sdk/src/server/postgres.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import { credential, fetchOffer, makeGate, pay, Payer, POSTGRES_URL, receiptOf, SELLER, startServer, type TestServer } from "./helpers.js";

const PRICE = 1_000n;

describe("server e2e: round trips of a paid request on PostgreSQL", function () {
  this.timeout(90_000);
  let chain: LocalChain;
  let seller: Address;
  let payer: Payer;
  const schema = `tollgate_e2e_${process.pid}_${Date.now().toString(36)}_round_trips`;
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 4 });
  let roundTrips = 0;
  let store: SessionStore;
  let gate: PaymentGate;
  let server: TestServer;

  before(async function () {
    chain = await startLocalChain();
    seller = chain.account(SELLER).address;
    payer = new Payer(chain, chain.account(2));
    await chain.mint(payer.address, 100_000_000n);
    pool.on("connect", (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as { query: unknown }).query = (...args: unknown[]) => (roundTrips++, query(...args));
    });
    store = await createPostgresStore({ pool, schema });
    gate = makeGate(chain, store);
    const route = gate.session({ amount: PRICE, suggestedDeposit: 100n * PRICE });
    server = await startServer((request) => route.handle(request, async () => Response.json({ served: true })));
  });

  after(async function () {
    await server?.close();
    await store?.close();
    await pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`).catch(() => undefined);
    await pool.end();
    await chain?.stop();
  });

  it("test_postgresPaidRequestTakesFourRoundTrips", async () => {
    // Reserve mode: the admission (lock and read; write and commit), then the commit of the charge after
    // the handler (lock, read the channel and the reservation; write and commit). It was 5: the commit
    // read its reservation in a round trip of its own.
    const url = `${server.url}/item`;
    const { challenge } = await fetchOffer(url);
    const opened = await payer.openOnChain(seller, 100n * PRICE);
    const open = await pay(url, credential(challenge, await payer.openPayload(opened, PRICE), payer.source));
    assert.equal(open.status, 200, await open.clone().text());
    await open.body?.cancel();
    for (let i = 2n; i <= 4n; i++) {
      const voucher = credential(challenge, await payer.voucher(opened.channelId, i * PRICE));
      roundTrips = 0;
      const response = await pay(url, voucher);
      assert.equal(response.status, 200, await response.clone().text());
      assert.equal(receiptOf(response).spent, String(i * PRICE));
      await response.body?.cancel();
      assert.equal(roundTrips, 4, `paid request ${i}`);
    }
  });
});
