// --db as the seller writes it: a SQLite path, a file: URL or a postgres:// URL, and the exit codes of a
// database that is not there (5) as opposed to a server that cannot be reached (4).
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { freePort } from "../../scripts/localChain.js";
import { createSqliteStore } from "../../sdk/src/server/sqlite.js";
import { cli, cliJson } from "./helpers.js";

describe("tollgate CLI: --db locations", function () {
  this.timeout(60_000);
  let scratch: string;
  let db: string;

  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), "tollgate-cli-store-"));
    db = path.join(scratch, "gate.db");
    await createSqliteStore({ path: db }).close();
  });

  after(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("test_cli_db_sqlitePathAndFileUrl_openTheSameStore", async () => {
    const byPath = await cliJson<{ source: string; channels: unknown[] }>(["channels", "--db", db], {});
    assert.deepEqual([byPath.source, byPath.channels], ["store", []]);
    const byUrl = await cliJson<{ source: string; channels: unknown[] }>(["channels", "--db", pathToFileURL(db).href], {});
    assert.deepEqual([byUrl.source, byUrl.channels], ["store", []]);
    const relative = await cliJson<{ source: string }>(["channels", "--db", `file:${path.relative(process.cwd(), db)}`], {});
    assert.equal(relative.source, "store");
    const missing = await cliJson<{ error: { kind: string; message: string } }>(["channels", "--db", pathToFileURL(path.join(scratch, "none.db")).href], {}, 5);
    assert.match(missing.error.message, /no database at .*none\.db/);
  });

  it("test_cli_db_unknownScheme_isAUsageError", async () => {
    const result = await cli(["channels", "--db", "mysql://seller@db.internal/shop"], {});
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--db: .*mysql:/);
  });

  it("test_cli_db_missingPostgresDatabase_isNotFound_unreachableServerIsUnreachable", async () => {
    const database = `tollgate_missing_${process.pid}`;
    const missing = await cliJson<{ error: { kind: string; message: string } }>(
      ["channels", "--db", `postgres://postgres@127.0.0.1:5432/${database}`],
      {},
      5,
    );
    assert.equal(missing.error.kind, "not-found");
    assert.match(missing.error.message, new RegExp(`database "${database}" does not exist`));
    const down = await cliJson<{ error: { kind: string } }>(["channels", "--db", `postgres://postgres@127.0.0.1:${await freePort()}/test`], {}, 4);
    assert.equal(down.error.kind, "unreachable");
  });
});
