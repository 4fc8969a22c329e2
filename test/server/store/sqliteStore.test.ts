import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { paymentKey, type SessionStore, StoreError } from "../../../sdk/src/server/store/index.js";
import { createSqliteStore } from "../../../sdk/src/server/sqlite.js";
import { sqliteMigrations } from "../../../sdk/src/server/store/sqliteMigrations.js";
import { assertSchema3RecordsReadable, describePaymentConformance, makePayment } from "./paymentConformance.js";
import { describeStoreConformance } from "./storeConformance.js";
import { incrementSpent, makeChannel, makeCharge, newChannelId, sleep } from "./storeFixtures.js";
import { startWorker, stopWorker } from "./storeProcesses.js";

const dir = mkdtempSync(join(tmpdir(), "tollgate-sqlite-"));
let files = 0;
const newPath = () => join(dir, `store-${++files}.db`);
after(() => rmSync(dir, { recursive: true, force: true }));

describeStoreConformance("sqlite file", { create: async () => createSqliteStore({ path: newPath() }) });
describeStoreConformance("sqlite :memory:", { create: async () => createSqliteStore({ path: ":memory:" }) });
describePaymentConformance("sqlite file", { create: async () => createSqliteStore({ path: newPath() }) });
describePaymentConformance("sqlite :memory:", { create: async () => createSqliteStore({ path: ":memory:" }) });

/** The invariant every crash must preserve: spent = number of committed charges, and they are 1..spent. */
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

describe("SQLite session store on disk", function () {
  this.timeout(30_000);

  it("keeps committed transactions across close and reopen, and migrates once", async () => {
    const path = newPath();
    const id = newChannelId();
    const first = createSqliteStore({ path });
    await first.withChannel(id, (tx) => tx.putChannel(makeChannel(id, { spent: 3n })));
    await first.close();

    const second = createSqliteStore({ path, synchronous: "full" });
    assert.equal((await second.getChannel(id))?.spent, 3n);
    await second.close();

    const { DatabaseSync } = process.getBuiltinModule("node:sqlite");
    const db = new DatabaseSync(path);
    try {
      assert.deepEqual(db.prepare("SELECT version FROM schema_migrations").all().map((row) => row.version), [1, 2, 3, 4, 5, 6, 7]);
      assert.equal(db.prepare("PRAGMA journal_mode").get()?.journal_mode, "wal");
      // Amounts are stored as decimal text, so nothing above 2^63 is lost.
      assert.equal(db.prepare("SELECT typeof(spent) AS type FROM channels").get()?.type, "text");
      db.exec("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)");
    } finally {
      db.close();
    }
    assert.throws(
      () => createSqliteStore({ path }),
      (error: unknown) => error instanceof StoreError && error.reason === "schema" && /999/.test(error.message),
    );
  });

  it("test_store_sqliteVersion1FileMigratesToChargeFingerprints", async () => {
    // A file as the first release left it: schema version 1, a charge without a fingerprint column.
    const path = newPath();
    const id = newChannelId();
    const { DatabaseSync } = process.getBuiltinModule("node:sqlite");
    const v1 = new DatabaseSync(path);
    v1.exec("CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL)");
    v1.exec(sqliteMigrations.find((migration) => migration.version === 1)!.sql);
    v1.exec("INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0)");
    v1.prepare("INSERT INTO charges (channel_id, key, payer, amount, units, status, created_at, updated_at) VALUES (?, 'old', ?, '7', '1', 'committed', 5, 6)").run(id, makeCharge(id, "old").payer);
    v1.close();

    const store = createSqliteStore({ path });
    const old = makeCharge(id, "old", { amount: 7n, status: "committed", createdAt: 5, updatedAt: 6 });
    assert.deepEqual(await store.listCharges({ status: "committed", channelId: id }), [old]);
    const bound = makeCharge(id, "new", { fingerprint: "5e".repeat(32) });
    await store.withChannel(id, (tx) => tx.putCharge(bound));
    await store.withChannel(id, async (tx) => assert.deepEqual(await tx.getCharge("new"), bound));
    await store.close();
    const db = new DatabaseSync(path);
    try {
      assert.deepEqual(db.prepare("SELECT version FROM schema_migrations ORDER BY version").all().map((row) => row.version), [1, 2, 3, 4, 5, 6, 7]);
    } finally {
      db.close();
    }
  });

  it("test_store_sqliteIndexesOnlyReservationsByStatus", async () => {
    // Schema 7: a committed or released charge adds no row to a status index (each paid request wrote
    // one); the sweep of stale reservations (listCharges reserved, by age) still reads an index.
    const path = newPath();
    const id = newChannelId();
    const store = createSqliteStore({ path });
    await store.withChannel(id, async (tx) => {
      await tx.putCharge(makeCharge(id, "held", { status: "reserved", updatedAt: 10 }));
      await tx.putCharge(makeCharge(id, "done", { status: "committed", updatedAt: 10 }));
    });
    assert.deepEqual((await store.listCharges({ status: "reserved", updatedBefore: 11 })).map((charge) => charge.key), ["held"]);
    await store.close();
    const { DatabaseSync } = process.getBuiltinModule("node:sqlite");
    const db = new DatabaseSync(path);
    try {
      const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'charges' AND sql IS NOT NULL").all();
      assert.deepEqual(indexes.map((index) => index.name).sort(), ["charges_committed_created", "charges_committed_payer", "charges_reserved_updated"]);
      assert.equal(db.prepare("SELECT count(*) AS n FROM charges INDEXED BY charges_reserved_updated WHERE status = 'reserved'").get()?.n, 1);
      const plan = db.prepare("EXPLAIN QUERY PLAN SELECT key FROM charges WHERE status = 'reserved' AND updated_at < 11 ORDER BY updated_at, channel_id, key").all();
      assert.match(plan.map((step) => step.detail).join("; "), /charges_reserved_updated/);
    } finally {
      db.close();
    }
  });

  it("test_store_sqliteVersion2FileMigratesToPayments", async () => {
    // A file as the second release left it: schema version 2, channels and charges, no payments table.
    const path = newPath();
    const id = newChannelId();
    const { DatabaseSync } = process.getBuiltinModule("node:sqlite");
    const v2 = new DatabaseSync(path);
    v2.exec("CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL)");
    for (const migration of sqliteMigrations.filter(({ version }) => version <= 2)) {
      v2.exec(migration.sql);
      v2.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)").run(migration.version);
    }
    v2.prepare("INSERT INTO charges (channel_id, key, payer, amount, units, status, fingerprint, created_at, updated_at) VALUES (?, 'old', ?, '7', '1', 'committed', NULL, 5, 6)").run(id, makeCharge(id, "old").payer);
    v2.close();

    const store = createSqliteStore({ path });
    assert.equal((await store.listCharges({ status: "committed", channelId: id })).length, 1);
    const payment = makePayment();
    assert.equal(await store.insertPayment(payment), true);
    assert.equal(await store.insertPayment(payment), false);
    await store.close();
    const reopened = createSqliteStore({ path });
    assert.deepEqual(await reopened.listPayments(), [payment]);
    await reopened.close();
  });

  it("test_store_sqliteVersion3FileMigratesToUsageLabels", async () => {
    // A file as the third release left it: a committed charge and a settled payment, neither with a route.
    const path = newPath();
    const id = newChannelId();
    const { DatabaseSync } = process.getBuiltinModule("node:sqlite");
    const v3 = new DatabaseSync(path);
    v3.exec("CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL)");
    for (const migration of sqliteMigrations.filter(({ version }) => version <= 3)) {
      v3.exec(migration.sql);
      v3.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)").run(migration.version);
    }
    const payer = makeCharge(id, "old").payer;
    v3.prepare("INSERT INTO charges (channel_id, key, payer, amount, units, status, fingerprint, created_at, updated_at) VALUES (?, 'old', ?, '7', '1', 'committed', NULL, 5, 6)").run(id, payer);
    const oldPayment = makePayment({ payer, status: "settled", amount: 9n, txHash: `0x${"ee".repeat(32)}`, createdAt: 7, updatedAt: 8 });
    v3.prepare(`INSERT INTO payments (key, chain_id, token, payer, nonce, payee, method, amount, units, status, tx_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, '9', '1', 'settled', ?, 7, 8)`).run(
      paymentKey(oldPayment), oldPayment.chainId, oldPayment.token, payer, oldPayment.nonce, oldPayment.payee, oldPayment.method, oldPayment.txHash,
    );
    v3.close();

    const store = createSqliteStore({ path });
    await assertSchema3RecordsReadable(store, { channelId: id, payer, oldPayment });
    await store.close();
  });

  it("reads committed state only, while a transaction is in flight", async () => {
    const store = createSqliteStore({ path: newPath() });
    const id = newChannelId();
    await incrementSpent(store, id, "a");
    let inside!: () => void;
    const reached = new Promise<void>((resolve) => (inside = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const running = store.withChannel(id, async (tx) => {
      await tx.putChannel({ ...tx.channel!, spent: 100n });
      inside();
      await held;
    });
    await reached;
    assert.equal((await store.getChannel(id))?.spent, 1n);
    assert.equal((await store.listChannels())[0]?.spent, 1n);
    release();
    await running;
    assert.equal((await store.getChannel(id))?.spent, 100n);
    await store.close();
  });

  it("test_store_sqliteWriteRefusedInAGroupCommitFailsOnlyItsCall", async () => {
    // The database itself refuses one call's charge (a trigger), after that call's channel row was
    // written: the call fails with its channel write undone, the calls batched with it commit.
    const path = newPath();
    const store = createSqliteStore({ path });
    const { DatabaseSync } = process.getBuiltinModule("node:sqlite");
    const db = new DatabaseSync(path);
    db.exec("CREATE TRIGGER refuse_poison BEFORE INSERT ON charges WHEN NEW.key = 'poison' BEGIN SELECT RAISE(ABORT, 'poison refused'); END");
    db.close();
    const [a, b] = [newChannelId(), newChannelId()];
    const outcomes = await Promise.allSettled([incrementSpent(store, a, "a1"), incrementSpent(store, b, "poison"), incrementSpent(store, b, "b1"), incrementSpent(store, a, "a2")]);
    assert.deepEqual(outcomes.map((outcome) => outcome.status), ["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    const refused = (outcomes[1] as PromiseRejectedResult).reason;
    assert.ok(refused instanceof StoreError && refused.reason === "database" && /poison refused/.test(refused.message), String(refused));
    assert.equal(await assertConsistent(store, a), 2n);
    assert.equal(await assertConsistent(store, b), 1n);
    await store.close();
  });

  it("test_store_sqliteSeesWhatAnotherConnectionCommittedToChannelsAndChargesItWrote", async () => {
    // Each store keeps what it committed in memory: a write by another connection (another process)
    // to the same channel and charge must be what the next transaction sees, not the remembered copy.
    const path = newPath();
    const [first, second] = [createSqliteStore({ path }), createSqliteStore({ path })];
    const id = newChannelId();
    await first.withChannel(id, async (tx) => {
      await tx.putChannel(makeChannel(id, { spent: 1n, reserved: 5n }));
      await tx.putCharge(makeCharge(id, "held", { status: "reserved", amount: 5n }));
    });
    // The first store read both from memory before the second one writes.
    assert.equal((await first.withChannel(id, async (tx) => (await tx.getCharge("held"))?.status)), "reserved");
    await second.withChannel(id, async (tx) => {
      const held = (await tx.getCharge("held"))!;
      await tx.putCharge({ ...held, status: "released", updatedAt: held.updatedAt + 1 });
      await tx.putChannel({ ...tx.channel!, spent: 2n, reserved: 0n });
    });
    const { DatabaseSync } = process.getBuiltinModule("node:sqlite");
    const seen = await first.withChannel(id, async (tx) => ({ channel: tx.channel!, charge: await tx.getCharge("held") }));
    assert.equal(seen.channel.spent, 2n);
    assert.equal(seen.channel.reserved, 0n);
    assert.equal(seen.charge?.status, "released");
    // A raw write by a connection that is no store at all is seen too.
    const raw = new DatabaseSync(path);
    raw.exec(`UPDATE channels SET spent = '7' WHERE channel_id = '${id}'`);
    raw.close();
    assert.equal(await first.withChannel(id, async (tx) => tx.channel!.spent), 7n);
    await Promise.all([first.close(), second.close()]);
  });

  it("test_store_sqliteRolledBackBatchLeavesNothingRemembered", async () => {
    // A batch whose commit fails (here: a write the database refuses after an earlier call of the same
    // batch staged its own) must not leave the failed call's channel in memory for later transactions.
    const path = newPath();
    const store = createSqliteStore({ path });
    const id = newChannelId();
    await store.withChannel(id, async (tx) => tx.putChannel(makeChannel(id, { spent: 1n })));
    const { DatabaseSync } = process.getBuiltinModule("node:sqlite");
    const db = new DatabaseSync(path);
    db.exec("CREATE TRIGGER refuse_poison BEFORE INSERT ON charges WHEN NEW.key = 'poison' BEGIN SELECT RAISE(ABORT, 'poison refused'); END");
    db.close();
    await assert.rejects(
      store.withChannel(id, async (tx) => {
        await tx.putChannel({ ...tx.channel!, spent: 9n });
        await tx.putCharge(makeCharge(id, "poison"));
      }),
      /poison refused/,
    );
    assert.equal(await store.withChannel(id, async (tx) => tx.channel!.spent), 1n);
    assert.equal((await store.getChannel(id))?.spent, 1n);
    await store.close();
  });

  it("fails with `busy` when another connection holds the write lock past busyTimeout", async () => {
    const path = newPath();
    const store = createSqliteStore({ path, busyTimeout: 50 });
    const { DatabaseSync } = process.getBuiltinModule("node:sqlite");
    const other = new DatabaseSync(path);
    other.exec("BEGIN IMMEDIATE");
    const started = Date.now();
    const id = newChannelId();
    await assert.rejects(incrementSpent(store, id, "a"), (error: unknown) => error instanceof StoreError && error.reason === "busy");
    assert.ok(Date.now() - started >= 45);
    // The event loop stayed free while waiting, and the store works once the lock is gone.
    other.exec("ROLLBACK");
    other.close();
    assert.equal(await incrementSpent(store, id, "b"), 1n);
    await store.close();
  });

  it("serializes two processes incrementing one channel in one file: exact total, interleaved", async () => {
    const path = newPath();
    const id = newChannelId();
    await createSqliteStore({ path }).close(); // migrate before the race, so both workers start the same way
    const count = 120;
    const workers = ["p", "q"].map((label) =>
      startWorker({ store: { kind: "sqlite", path }, channelId: id, label, mode: "count", count }),
    );
    try {
      await Promise.all(workers.map((worker) => worker.waitFor("ready")));
      for (const worker of workers) worker.child.stdin!.write("go\n");
      await Promise.all(workers.map((worker) => worker.waitFor("done", 25_000)));
      for (const worker of workers) {
        assert.equal((await worker.exited).code, 0, worker.stderr());
        assert.doesNotMatch(worker.stderr(), /SQLite is an experimental feature/);
        assert.match(worker.stderr(), /tollgate-worker-probe/, "other warnings must still print");
      }
    } finally {
      await Promise.all(workers.map(stopWorker));
    }
    const store = createSqliteStore({ path });
    assert.equal(await assertConsistent(store, id), BigInt(2 * count));
    // Ordered by the sequence number each transaction wrote, the writers alternate at least a few times.
    const order = (await store.listCharges({ status: "committed", channelId: id }))
      .sort((a, b) => Number(a.units - b.units))
      .map((charge) => charge.key[0]);
    const switches = order.filter((label, i) => i > 0 && label !== order[i - 1]).length;
    assert.ok(switches >= 2, `the two processes never interleaved (${switches} switches)`);
    await store.close();
  });

  it("stays consistent when a writer is killed with SIGKILL at a random moment", async () => {
    const path = newPath();
    const id = newChannelId();
    await createSqliteStore({ path }).close();
    let total = 0n;
    for (let round = 0; round < 3; round++) {
      const worker = startWorker({ store: { kind: "sqlite", path }, channelId: id, label: `r${round}`, mode: "forever" });
      try {
        await worker.waitFor("committed");
        await sleep(20 + Math.random() * 150);
      } finally {
        await stopWorker(worker);
      }
      assert.equal((await worker.exited).signal, "SIGKILL");
      const store = createSqliteStore({ path });
      const spent = await assertConsistent(store, id);
      assert.ok(spent > total, "the worker committed nothing in this round");
      total = spent;
      await store.close();
    }
  });
});
