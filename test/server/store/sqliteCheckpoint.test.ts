// The SQLite store checkpoints its write-ahead log on a timer between transactions, not inside whichever
// commit happens to cross SQLite's automatic threshold (which stalled that request: bench:server's
// added p99 went from 3.8 ms to 1.3 ms).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSqliteStore } from "../../../sdk/src/server/sqlite.js";
import { makeChannel, newChannelId, sleep } from "./storeFixtures.js";

describe("SQLite session store: checkpoints", function () {
  this.timeout(20_000);
  const dir = mkdtempSync(join(tmpdir(), "tollgate-checkpoint-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("test_sqliteStore_checkpointsTheWalOnItsTimerNotInsideCommits", async () => {
    const path = join(dir, "store.db");
    const store = createSqliteStore({ path });
    // Let the checkpoint after migrations pass, so that what follows starts from a quiet log.
    await sleep(1_200);
    const before = statSync(path).size;
    for (let i = 0; i < 400; i++) {
      const id = newChannelId();
      await store.withChannel(id, (tx) => tx.putChannel(makeChannel(id)));
    }
    // Committed pages sit in the WAL: no commit copied them into the database file.
    assert.equal(statSync(path).size, before, "a commit ran a checkpoint");
    await sleep(1_500);
    // The timer's checkpoint did.
    assert.ok(statSync(path).size > before, "no checkpoint ran within the interval");
    assert.equal((await store.listChannels()).length, 400);
    await store.close();
  });
});
