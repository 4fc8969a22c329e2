import assert from "node:assert/strict";
import pg from "pg";
import { paymentKey, type SessionStore, StoreError } from "../../../sdk/src/server/store/index.js";
import { createPostgresStore } from "../../../sdk/src/server/postgres.js";
import { countingPool } from "./countingPool.js";
import { assertSchema3RecordsReadable, describePaymentConformance, makePayment } from "./paymentConformance.js";
import { describeStoreConformance } from "./storeConformance.js";
import { postgresMigrations } from "../../../sdk/src/server/store/postgresMigrations.js";
import { incrementSpent, makeChannel, makeCharge, newChannelId, sleep } from "./storeFixtures.js";
import { startWorker, stopWorker } from "./storeProcesses.js";

// These tests run wherever the suite runs: PostgreSQL is part of the test environment. When it cannot
// be reached they fail, loudly, rather than skip.
const connectionString = process.env.TOLLGATE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const admin = new pg.Pool({ connectionString, max: 2 });
admin.on("error", () => undefined);
const schemas = new Set<string>();
let schemaCounter = 0;

function withApplicationName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set("application_name", name);
  return parsed.href;
}

async function waitForBackendsToEnd(applicationName: string): Promise<void> {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(25)) {
    const { rows } = await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [applicationName]);
    if (rows[0]!.n === 0) return;
  }
  assert.fail(`PostgreSQL still has sessions of ${applicationName} 20 s after the kill`);
}

function newSchema(): string {
  const schema = `tollgate_test_${process.pid}_${Date.now().toString(36)}_${++schemaCounter}`;
  schemas.add(schema);
  return schema;
}

async function dropSchema(schema: string): Promise<void> {
  await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  schemas.delete(schema);
}

before(async function () {
  this.timeout(10_000);
  try {
    await admin.query("SELECT 1");
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${connectionString} (${(error as Error).message}). ` +
        "The PostgreSQL store tests need it: start PostgreSQL or point TOLLGATE_TEST_POSTGRES_URL at one.",
    );
  }
});

after(async () => {
  for (const schema of [...schemas]) await dropSchema(schema).catch(() => undefined);
  await admin.end();
});

const storeSchemas = new WeakMap<SessionStore, string>();
const postgresHarness = {
  async create() {
    const schema = newSchema();
    const store = await createPostgresStore({ connectionString, schema, maxConnections: 4 });
    storeSchemas.set(store, schema);
    return store;
  },
  async dispose(store: SessionStore) {
    await dropSchema(storeSchemas.get(store)!);
  },
};
describeStoreConformance("postgres", postgresHarness);

describePaymentConformance("postgres", postgresHarness);

async function assertConsistent(store: SessionStore, channelId: `0x${string}`): Promise<bigint> {
  const spent = (await store.getChannel(channelId))?.spent ?? 0n;
  const charges = await store.listCharges({ status: "committed", channelId });
  assert.equal(BigInt(charges.length), spent, "a transaction was torn: spent and its charges disagree");
  assert.deepEqual(
    charges.map((charge) => charge.units).sort((a, b) => Number(a - b)),
    Array.from({ length: charges.length }, (_, i) => BigInt(i + 1)),
  );
  return spent;
}

describe("PostgreSQL session store schema", function () {
  this.timeout(30_000);

  it("test_store_postgresVersion1SchemaMigratesToChargeFingerprints", async () => {
    // A schema as the first release left it: version 1, a charge without a fingerprint column.
    const schema = newSchema();
    const S = pg.escapeIdentifier(schema);
    const id = newChannelId();
    await admin.query(`CREATE SCHEMA ${S}`);
    await admin.query(`CREATE TABLE ${S}.schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    await admin.query(postgresMigrations(S).find((migration) => migration.version === 1)!.sql);
    await admin.query(`INSERT INTO ${S}.schema_migrations (version) VALUES (1)`);
    await admin.query(
      `INSERT INTO ${S}.charges (channel_id, key, payer, amount, units, status, created_at, updated_at) VALUES ($1, 'old', $2, 7, 1, 'committed', 5, 6)`,
      [id, makeCharge(id, "old").payer],
    );

    const store = await createPostgresStore({ connectionString, schema, maxConnections: 2 });
    try {
      const old = makeCharge(id, "old", { amount: 7n, status: "committed", createdAt: 5, updatedAt: 6 });
      assert.deepEqual(await store.listCharges({ status: "committed", channelId: id }), [old]);
      const bound = makeCharge(id, "new", { fingerprint: "5e".repeat(32) });
      await store.withChannel(id, (tx) => tx.putCharge(bound));
      await store.withChannel(id, async (tx) => assert.deepEqual(await tx.getCharge("new"), bound));
    } finally {
      await store.close();
    }
    const { rows } = await admin.query(`SELECT version FROM ${S}.schema_migrations ORDER BY version`);
    assert.deepEqual(rows, [{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }, { version: 6 }, { version: 7 }]);
  });
});

describe("PostgreSQL session store schema 4", function () {
  this.timeout(30_000);

  it("test_store_postgresVersion3SchemaMigratesToUsageLabels", async () => {
    // A schema as the third release left it: a committed charge and a settled payment, neither with a route.
    const schema = newSchema();
    const S = pg.escapeIdentifier(schema);
    const id = newChannelId();
    await admin.query(`CREATE SCHEMA ${S}`);
    await admin.query(`CREATE TABLE ${S}.schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    for (const migration of postgresMigrations(S).filter(({ version }) => version <= 3)) {
      await admin.query(migration.sql);
      await admin.query(`INSERT INTO ${S}.schema_migrations (version) VALUES ($1)`, [migration.version]);
    }
    const payer = makeCharge(id, "old").payer;
    await admin.query(`INSERT INTO ${S}.charges (channel_id, key, payer, amount, units, status, created_at, updated_at) VALUES ($1, 'old', $2, 7, 1, 'committed', 5, 6)`, [id, payer]);
    const oldPayment = makePayment({ payer, status: "settled", amount: 9n, txHash: `0x${"ee".repeat(32)}`, createdAt: 7, updatedAt: 8 });
    await admin.query(
      `INSERT INTO ${S}.payments (key, chain_id, token, payer, nonce, payee, method, amount, units, status, tx_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 9, 1, 'settled', $8, 7, 8)`,
      [paymentKey(oldPayment), oldPayment.chainId, oldPayment.token, payer, oldPayment.nonce, oldPayment.payee, oldPayment.method, oldPayment.txHash],
    );

    const store = await createPostgresStore({ connectionString, schema, maxConnections: 2 });
    try {
      await assertSchema3RecordsReadable(store, { channelId: id, payer, oldPayment });
    } finally {
      await store.close();
    }
  });
});

describe("PostgreSQL session store group commit", function () {
  this.timeout(30_000);

  it("test_store_postgresWriteRefusedInAGroupCommitFailsOnlyItsCall", async () => {
    // PostgreSQL refuses one call's charge (a trigger): the batch's single write statement fails, its
    // calls are written again one by one under savepoints, and only the refused one fails.
    const schema = newSchema();
    const S = pg.escapeIdentifier(schema);
    const store = await createPostgresStore({ connectionString, schema, maxConnections: 2 });
    try {
      await admin.query(`CREATE FUNCTION ${S}.refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.key = 'poison' THEN RAISE EXCEPTION 'poison refused'; END IF; RETURN NEW; END $$`);
      await admin.query(`CREATE TRIGGER refuse_poison BEFORE INSERT ON ${S}.charges FOR EACH ROW EXECUTE FUNCTION ${S}.refuse_poison()`);
      const [a, b, c] = [newChannelId(), newChannelId(), newChannelId()];
      // Alone (the queue's fast path, no savepoint): the call fails and its connection is rolled back.
      const lone = await incrementSpent(store, b, "poison").catch((error: unknown) => error);
      assert.ok(lone instanceof StoreError && lone.reason === "database" && /poison refused/.test(lone.message), String(lone));
      // Together: the first call starts alone, the two made while it runs share the next batch.
      const outcomes = await Promise.allSettled([incrementSpent(store, a, "a1"), incrementSpent(store, b, "poison"), incrementSpent(store, c, "c1")]);
      assert.deepEqual(outcomes.map((outcome) => outcome.status), ["fulfilled", "rejected", "fulfilled"]);
      const refused = (outcomes[1] as PromiseRejectedResult).reason;
      assert.ok(refused instanceof StoreError && refused.reason === "database" && /poison refused/.test(refused.message), String(refused));
      assert.equal(await assertConsistent(store, a), 1n);
      assert.equal(await store.getChannel(b), undefined);
      assert.equal(await assertConsistent(store, c), 1n);
      // The connection went back to the pool in a clean state: the next batch commits.
      assert.equal(await incrementSpent(store, b, "b1"), 1n);
    } finally {
      await store.close();
    }
  });
});

describe("PostgreSQL session store round trips", function () {
  this.timeout(30_000);

  it("test_store_postgresPaidRequestTakesFourRoundTrips", async () => {
    // A paid request alone on its channel, as the gate makes it in reserve mode: admission reserves a
    // charge, the finish reads and commits it. Each withChannel is one round trip to open, lock and
    // read, and one to write and commit; the finish finds its reservation in the first (it was 3).
    const schema = newSchema();
    const { pool, roundTrips: counted } = countingPool({ connectionString, max: 2 });
    const store = await createPostgresStore({ pool, schema });
    try {
      const id = newChannelId();
      assert.equal(await counted(() => incrementSpent(store, id, "seed")), 2, "opening a channel");
      for (const key of ["k1", "k2"]) {
        const admission = await counted(() =>
          store.withChannel(id, async (tx) => {
            await tx.putCharge(makeCharge(id, key));
            await tx.putChannel({ ...tx.channel!, reserved: 10n });
          }),
        );
        const finish = await counted(() =>
          store.withChannel(id, async (tx) => {
            const charge = await tx.getCharge(key);
            assert.equal(charge?.status, "reserved");
            await tx.putCharge({ ...charge!, status: "committed" });
            await tx.putChannel({ ...tx.channel!, reserved: 0n, spent: tx.channel!.spent + charge!.amount });
          }),
        );
        assert.deepEqual([admission, finish], [2, 2], `request ${key}: admission and finish`);
      }
      // A key read but never reserved here still costs its own read, and finds nothing.
      assert.equal(await counted(() => store.withChannel(id, (tx) => tx.getCharge("other"))), 3);
      assert.equal((await store.getChannel(id))?.spent, 21n);
    } finally {
      await store.close();
      await pool.end();
    }
  });
});

describe("PostgreSQL session store locks", function () {
  this.timeout(30_000);

  it("test_store_postgresChannelSeenStoredTakesOnlyItsRowLock", async () => {
    // The advisory lock stands in for a row that may not exist: once an instance has seen the channel
    // stored, its transactions lock the row alone. Another instance, which has not, still takes both.
    const schema = newSchema();
    const first = countingPool({ connectionString, max: 2 });
    const second = countingPool({ connectionString, max: 2 });
    const [a, b] = [await createPostgresStore({ pool: first.pool, schema }), await createPostgresStore({ pool: second.pool, schema })];
    const takesAdvisoryLock = (texts: string[]) => texts.some((text) => text.includes("pg_advisory_xact_lock"));
    try {
      const id = newChannelId();
      assert.equal(takesAdvisoryLock(await first.queries(() => incrementSpent(a, id, "create"))), true, "creating the channel");
      assert.equal(takesAdvisoryLock(await first.queries(() => incrementSpent(a, id, "again"))), false, "the channel it wrote");
      assert.equal(takesAdvisoryLock(await second.queries(() => incrementSpent(b, id, "other"))), true, "another instance's first call");
      assert.equal(takesAdvisoryLock(await second.queries(() => incrementSpent(b, id, "other again"))), false, "the channel it read");
      // A creation rolled back leaves nothing remembered: the next call on that id locks it as missing.
      const missing = newChannelId();
      await assert.rejects(a.withChannel(missing, async (tx) => {
        await tx.putChannel(makeChannel(missing));
        throw new Error("the handler failed");
      }));
      assert.equal(takesAdvisoryLock(await first.queries(() => incrementSpent(a, missing, "create"))), true, "a creation rolled back");
      assert.equal(await assertConsistent(b, id), 4n);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([first.pool.end(), second.pool.end()]);
    }
  });
});

describe("PostgreSQL session store across instances", function () {
  this.timeout(30_000);
  let schema: string;
  let first: SessionStore;
  let second: SessionStore;

  beforeEach(async () => {
    schema = newSchema();
    // Two instances migrating the same new schema at once: the advisory lock makes one wait.
    [first, second] = await Promise.all([
      createPostgresStore({ connectionString, schema, maxConnections: 5 }),
      createPostgresStore({ connectionString, schema, maxConnections: 5 }),
    ]);
  });
  afterEach(async () => {
    await Promise.all([first.close(), second.close()]);
    await dropSchema(schema);
  });

  it("migrates once, records the version, and refuses a schema from a newer version", async () => {
    const { rows } = await admin.query(`SELECT version FROM ${pg.escapeIdentifier(schema)}.schema_migrations ORDER BY version`);
    assert.deepEqual(rows, [{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }, { version: 6 }, { version: 7 }]);
    const { rows: types } = await admin.query(
      "SELECT data_type, numeric_precision FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'charges' AND column_name = 'amount'",
      [schema],
    );
    assert.deepEqual(types, [{ data_type: "numeric", numeric_precision: 78 }]);
    await admin.query(`INSERT INTO ${pg.escapeIdentifier(schema)}.schema_migrations (version) VALUES (999)`);
    await assert.rejects(
      createPostgresStore({ connectionString, schema }),
      (error: unknown) => error instanceof StoreError && error.reason === "schema",
    );
  });

  it("loses no update when two instances (two pools) interleave increments on one channel", async () => {
    const id = newChannelId();
    await incrementSpent(first, id, "seed");
    const pause = () => sleep(Math.random() < 0.5 ? 0 : 2);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => incrementSpent(i % 2 === 0 ? first : second, id, `k${i}`, { pause })),
    );
    assert.equal(await assertConsistent(first, id), 41n);
    assert.equal(new Set(results).size, 40, "two transactions read the same spent");
  });

  it("serializes two instances creating the same new channel: one record, both increments", async () => {
    for (let round = 0; round < 4; round++) {
      const id = newChannelId();
      // Each callback lingers while the channel is still missing, so the other instance arrives before
      // the row exists and can only wait on the advisory lock.
      const pause = () => sleep(15);
      const results = await Promise.all([incrementSpent(first, id, "a", { pause }), incrementSpent(second, id, "b", { pause })]);
      assert.deepEqual(results.sort(), [1n, 2n]);
      assert.equal(await assertConsistent(second, id), 2n);
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${pg.escapeIdentifier(schema)}.channels WHERE channel_id = $1`, [id]);
      assert.equal(rows[0].n, 1);
    }
  });

  it("makes the second creator wait on the advisory lock while the first holds the missing channel", async () => {
    const id = newChannelId();
    let inside!: () => void;
    const reached = new Promise<void>((resolve) => (inside = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const creating = incrementSpent(first, id, "a", { pause: () => (inside(), held) });
    await reached;
    const waiting = incrementSpent(second, id, "b");
    // The second instance found no row to lock, so it must be queued on the channel's advisory lock.
    const deadline = Date.now() + 3_000;
    try {
      for (;;) {
        const { rows } = await admin.query(
          `SELECT count(*)::int AS n FROM pg_locks
            WHERE locktype = 'advisory' AND NOT granted AND objsubid = 2
              AND classid::text::bigint = hashtext($1)::bigint & 4294967295 AND objid::text::bigint = hashtext($2)::bigint & 4294967295`,
          [schema, id],
        );
        if (rows[0].n > 0) break;
        assert.ok(Date.now() < deadline, "the second instance never waited on the advisory lock");
        await sleep(10);
      }
    } finally {
      // Even when the check fails: a lock left held would hang both instances.
      release();
    }
    assert.deepEqual(await Promise.all([creating, waiting]), [1n, 2n]);
    assert.equal(await assertConsistent(first, id), 2n);
  });

  it("test_store_postgresReservationFinishedByAnotherInstanceIsReadAsItIs", async () => {
    // The first instance reads the charges it reserved along with the channel's lock: one the second
    // instance finished since must come back as the second one left it, not as the first remembers it.
    const id = newChannelId();
    await incrementSpent(first, id, "seed");
    await first.withChannel(id, (tx) => tx.putCharge(makeCharge(id, "held")));
    await second.withChannel(id, async (tx) => {
      const charge = await tx.getCharge("held");
      await tx.putCharge({ ...charge!, status: "released", updatedAt: 1_700_000_000_001 });
    });
    assert.deepEqual(
      await first.withChannel(id, (tx) => tx.getCharge("held")),
      makeCharge(id, "held", { status: "released", updatedAt: 1_700_000_000_001 }),
    );
    // And once forgotten there, a reservation made again is read again.
    await second.withChannel(id, (tx) => tx.putCharge(makeCharge(id, "held")));
    assert.equal((await first.withChannel(id, (tx) => tx.getCharge("held")))?.status, "reserved");
  });

  it("does not let a waiting instance see a channel that the creator rolled back", async () => {
    const id = newChannelId();
    let inside!: () => void;
    const reached = new Promise<void>((resolve) => (inside = resolve));
    const failing = first.withChannel(id, async (tx) => {
      await tx.putChannel(makeChannel(id, { spent: 9n }));
      inside();
      await sleep(30);
      throw new Error("abandon");
    });
    const failed = assert.rejects(failing, /abandon/);
    await reached;
    const seen = await second.withChannel(id, async (tx) => tx.channel);
    await failed;
    assert.equal(seen, undefined);
    assert.equal(await first.getChannel(id), undefined);
  });

  it("stays consistent when a writer process is killed with SIGKILL at a random moment", async () => {
    const id = newChannelId();
    let total = 0n;
    for (let round = 0; round < 2; round++) {
      // Named, so that the test can wait for the server to be done with the killed worker's sessions.
      const applicationName = `tollgate-kill-${process.pid}-${round}`;
      const worker = startWorker({
        store: { kind: "postgres", connectionString: withApplicationName(connectionString, applicationName), schema },
        channelId: id,
        label: `r${round}`,
        mode: "forever",
      });
      try {
        await worker.waitFor("committed");
        await sleep(20 + Math.random() * 150);
      } finally {
        await stopWorker(worker);
      }
      assert.equal((await worker.exited).signal, "SIGKILL");
      // A COMMIT the server received before the kill still completes after it: read only once the
      // worker's backends are gone, or that late commit lands between this read and the next increment.
      await waitForBackendsToEnd(applicationName);
      // The server notices the dropped connection and rolls back its open transaction; the row lock goes
      // with it, so this increment must neither hang nor be lost.
      const spent = await assertConsistent(first, id);
      assert.ok(spent > total, "the worker committed nothing in this round");
      assert.equal(await incrementSpent(first, id, `after-${round}`), spent + 1n);
      total = spent + 1n;
    }
  });
});

describe("PostgreSQL session store connection failures", () => {
  it("fails with a StoreError naming the cause when PostgreSQL cannot be reached", async () => {
    await assert.rejects(
      createPostgresStore({ connectionString: "postgres://postgres@127.0.0.1:1/none", schema: newSchema() }),
      (error: unknown) => error instanceof StoreError && error.reason === "unavailable" && /ECONNREFUSED|connect/.test(error.message),
    );
  });

  it("rejects schema names it would have to quote creatively", async () => {
    await assert.rejects(createPostgresStore({ connectionString, schema: 'x"; DROP TABLE y; --' }), /Invalid schema name/);
  });

  it("leaves a caller's pool open on close", async () => {
    const pool = new pg.Pool({ connectionString, max: 2 });
    const schema = newSchema();
    const store = await createPostgresStore({ pool, schema });
    await store.close();
    assert.deepEqual((await pool.query("SELECT 1 AS one")).rows, [{ one: 1 }]);
    await pool.end();
    await dropSchema(schema);
  });
});
