// tollgate usage (and channels --db) on the seller's SQLite store: one filled by the payment gate while
// a paying client buys through it, one filled directly through the store API with charges at chosen times.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Address, type Hex, http, keccak256, stringToHex } from "viem";
import { type LocalChain, startLocalChain } from "../../scripts/localChain.js";
import { createPayingFetch } from "../../sdk/src/client/index.js";
import { createFileChannelStore } from "../../sdk/src/client/fileStore.js";
import { createPaymentGate, type SessionStore } from "../../sdk/src/server/index.js";
import { createSqliteStore } from "../../sdk/src/server/sqlite.js";
import { toNodeHandler } from "../../sdk/src/server/node.js";
import { cli, cliJson, privateKeyOf, skipUnderCoverage } from "./helpers.js";

const PRICE = 10_000n; // $0.01
const ALICE: Address = "0x00000000000000000000000000000000000A11cE";
const BOB: Address = "0x0000000000000000000000000000000000000B0b";
const SELLER: Address = "0x5E11e75e11E75e11e75E11e75E11E75e11e75E11";
const TOKEN: Address = "0x888825723b8422ec705Ccc86Fe33d8Be7AF3C62a";

type UsageJson = {
  period: string;
  token: { decimals: number; symbol: string | null } | null;
  rows: { payer?: string; route?: string; unitType?: string; period: string; amount: string; units: string; charges: number; payments: number }[];
  payers: { payer: string; amount: string; units: string; charges: number; payments: number }[];
  routes: { route: string; amount: string; units: string; charges: number; payments: number }[];
  unitTypes: { unitType: string; amount: string; units: string; charges: number; payments: number }[];
  total: { amount: string; units: string; charges: number; payments: number };
};

describe("tollgate CLI: usage from the seller's session store", function () {
  this.timeout(90_000);
  let chain: LocalChain;
  let scratch: string;
  let gateDb: string;
  let directDb: string;
  let gateStore: SessionStore;
  let server: Server;
  let buyer: Address;
  let seller: Address;
  let url: string;

  before(async function () {
    skipUnderCoverage(this);
    chain = await startLocalChain();
    scratch = await mkdtemp(path.join(tmpdir(), "tollgate-cli-usage-"));

    // A gate charging $0.01 per request, and a client buying three times through a channel.
    gateDb = path.join(scratch, "gate.db");
    gateStore = createSqliteStore({ path: gateDb });
    const sellerAccount = chain.account(1);
    seller = sellerAccount.address;
    const gate = createPaymentGate({
      chain: chain.chain,
      transport: http(chain.rpcUrl),
      escrow: chain.escrow,
      currency: chain.token,
      account: sellerAccount,
      store: gateStore,
      secret: "a CLI usage test secret, long enough",
    });
    const route = gate.session({ amount: PRICE, unitType: "request", suggestedDeposit: 1_000_000n });
    server = createServer(toNodeHandler((request) => route.handle(request, async () => Response.json({ ok: true }))));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/paid`;
    const buyerAccount = chain.account(4);
    buyer = buyerAccount.address;
    await chain.mint(buyer, 10_000_000n);
    const pay = createPayingFetch({ account: buyerAccount, chain: chain.chain, transport: http(chain.rpcUrl), maxDeposit: 1_000_000n, escrows: [chain.escrow] });
    for (let i = 0; i < 3; i++) assert.equal((await pay(url)).status, 200);

    // Charges at chosen instants, straight through the store API.
    directDb = path.join(scratch, "direct.db");
    const store = createSqliteStore({ path: directDb });
    const charges: [Address, string, bigint][] = [
      [ALICE, "2025-01-01T09:15:00Z", 1_500_000n],
      [ALICE, "2025-01-01T23:59:59Z", 250_000n],
      [BOB, "2025-01-01T10:00:00Z", 10_000n],
      [ALICE, "2025-01-02T00:00:00Z", 1_000_000n],
      [BOB, "2025-02-14T12:30:00Z", 2_000_000n],
    ];
    for (const [index, [payer, at, amount]] of charges.entries()) {
      const channelId = keccak256(stringToHex(`channel-${payer}`));
      const time = Date.parse(at);
      await store.withChannel(channelId, async (tx) => {
        if (tx.channel === undefined) {
          await tx.putChannel({
            channelId,
            chainId: 31337,
            escrow: chain.escrow,
            payer,
            payee: SELLER,
            token: TOKEN,
            authorizedSigner: "0x0000000000000000000000000000000000000000",
            deposit: 10_000_000n,
            settledOnChain: 0n,
            acceptedCumulative: 0n,
            acceptedSignature: null,
            spent: 0n,
            reserved: 0n,
            units: 0n,
            closeRequestedAt: 0n,
            status: "open",
            lastTxHash: null,
            createdAt: time,
            updatedAt: time,
          });
        }
        await tx.putCharge({ channelId, key: `charge-${index}`, payer, amount, units: 1n, status: "committed", fingerprint: null, createdAt: time, updatedAt: time });
      });
    }
    // A released charge is no usage.
    const released = keccak256(stringToHex(`channel-${ALICE}`));
    await store.withChannel(released, (tx) =>
      tx.putCharge({ channelId: released, key: "released", payer: ALICE, amount: 99n, units: 1n, status: "released", fingerprint: null, createdAt: Date.parse("2025-01-01T12:00:00Z"), updatedAt: 0 }),
    );
    await store.close();
  });

  after(async () => {
    server?.close();
    await gateStore?.close();
    await chain?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("sums what the gate charged per payer and day, in the token of the store's channels", async () => {
    const env = { TOLLGATE_RPC_URL: chain.rpcUrl };
    const usage = await cliJson<UsageJson>(["usage", "--db", gateDb], env);
    assert.deepEqual(usage.token, { address: chain.token, decimals: 6, symbol: "USDC" });
    assert.equal(usage.rows.length, 1);
    assert.deepEqual({ ...usage.rows[0], period: undefined }, { payer: buyer, period: undefined, amount: "30000", units: "3", charges: 3, payments: 0 });
    // The gate's route has no name nor description: its charges are filed under "default".
    const byRoute = await cliJson<UsageJson>(["usage", "--db", gateDb, "--by", "route"], env);
    assert.deepEqual(byRoute.routes, [{ route: "default", amount: "30000", units: "3", charges: 3, payments: 0 }]);
    assert.equal(usage.rows[0]!.period, `${new Date().toISOString().slice(0, 10)}T00:00:00.000Z`);

    const human = await cli(["usage", "--db", gateDb], env);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`${buyer}\\s+0\\.03 USDC\\s+3\\s+3`));

    // The same store through channels --db: the gate's accepted voucher and spending.
    const channels = await cli(["channels", "--payee", seller, "--db", gateDb], env);
    assert.equal(channels.code, 0, channels.stderr);
    assert.match(channels.stdout, /ACCEPTED\s+SPENT/);
    assert.match(channels.stdout, /open\s+0x[0-9a-fA-F]{40}\s+1 USDC\s+0 USDC\s+0\.03 USDC\s+0\.03 USDC/);
  });

  it("groups directly stored charges by day, month and hour, filters by time and payer, and totals them", async () => {
    const byDay = await cliJson<UsageJson>(["usage", "--db", directDb, "--decimals", "6"], {});
    assert.deepEqual(
      byDay.rows.map(({ period, payer, amount, charges }) => [period.slice(0, 10), payer, amount, charges]),
      [
        ["2025-01-01", BOB, "10000", 1], // payers in code-unit order within a period, as every store sorts
        ["2025-01-01", ALICE, "1750000", 2],
        ["2025-01-02", ALICE, "1000000", 1],
        ["2025-02-14", BOB, "2000000", 1],
      ],
    );
    assert.deepEqual(byDay.total, { amount: "4760000", units: "5", charges: 5, payments: 0 });
    assert.deepEqual(
      byDay.payers.map(({ payer, amount }) => [payer, amount]),
      [
        [BOB, "2010000"],
        [ALICE, "2750000"],
      ],
    );

    const byMonth = await cliJson<UsageJson>(["usage", "--db", directDb, "--period", "month", "--payer", BOB], {});
    assert.deepEqual(
      byMonth.rows.map(({ period, amount }) => [period, amount]),
      [
        ["2025-01-01T00:00:00.000Z", "10000"],
        ["2025-02-01T00:00:00.000Z", "2000000"],
      ],
    );
    assert.equal(byMonth.token, null, "no --decimals and no RPC: base units");

    const window = await cli(["usage", "--db", directDb, "--period", "hour", "--from", "2025-01-01T10:00:00Z", "--to", "2025-01-02", "--decimals", "6"], {});
    assert.equal(window.code, 0, window.stderr);
    assert.match(window.stdout, /from 2025-01-01T10:00:00\.000Z until 2025-01-02T00:00:00\.000Z/);
    assert.match(window.stdout, new RegExp(`2025-01-01T10:00Z\\s+${BOB}\\s+0\\.01\\s+1\\s+1`));
    assert.match(window.stdout, new RegExp(`2025-01-01T23:00Z\\s+${ALICE}\\s+0\\.25\\s+1\\s+1`));
    assert.doesNotMatch(window.stdout, /T09:00Z/);
    assert.match(window.stdout, /total\s+all payers\s+0\.26\s+2\s+2/);

    const baseUnits = await cli(["usage", "--db", directDb, "--period", "month"], {});
    assert.match(baseUnits.stdout, /amounts in base units/);
    assert.match(baseUnits.stdout, new RegExp(`2025-02\\s+${BOB}\\s+2000000\\s+1\\s+1`));
  });

  it("test_cli_usage_groupsByRouteAndUnitTypeWithSettledPayments", async () => {
    const labelledDb = path.join(scratch, "labelled.db");
    const store = createSqliteStore({ path: labelledDb });
    const channelId = keccak256(stringToHex("labelled"));
    const day = Date.parse("2025-03-01T08:00:00Z");
    const charges: [string, Address, string | undefined, string | undefined, bigint, bigint][] = [
      ["1", ALICE, "photos", "photo", 30_000n, 3n],
      ["2", BOB, "photos", "photo", 10_000n, 1n],
      ["3", ALICE, "chat", "llm_token", 500n, 250n],
      ["4", ALICE, undefined, undefined, 7n, 1n], // stored before routes were recorded
    ];
    await store.withChannel(channelId, async (tx) => {
      for (const [key, payer, route, unitType, amount, units] of charges) {
        const label = { ...(route === undefined ? {} : { route }), ...(unitType === undefined ? {} : { unitType }) };
        await tx.putCharge({ channelId, key, payer, amount, units, status: "committed", fingerprint: null, ...label, createdAt: day, updatedAt: day });
      }
    });
    const payment = { chainId: 31337, token: TOKEN, payee: SELLER, method: "x402" as const, units: 1n, txHash: null, createdAt: day + 1, updatedAt: day + 1, route: "photos", unitType: "photo" };
    await store.insertPayment({ ...payment, payer: BOB, nonce: keccak256(stringToHex("settled")), amount: 10_000n, status: "settled" });
    await store.insertPayment({ ...payment, payer: BOB, nonce: keccak256(stringToHex("released")), amount: 99n, status: "released" });
    await store.close();

    const byRoute = await cliJson<UsageJson>(["usage", "--db", labelledDb, "--by", "route", "--period", "month"], {});
    assert.deepEqual(byRoute.routes, [
      { route: "chat", amount: "500", units: "250", charges: 1, payments: 0 },
      { route: "photos", amount: "50000", units: "5", charges: 2, payments: 1 },
      { route: "unknown", amount: "7", units: "1", charges: 1, payments: 0 },
    ]);
    assert.deepEqual(byRoute.rows.map(({ period, route }) => [period, route]), [["2025-03-01T00:00:00.000Z", "chat"], ["2025-03-01T00:00:00.000Z", "photos"], ["2025-03-01T00:00:00.000Z", "unknown"]]);
    assert.deepEqual(byRoute.total, { amount: "50507", units: "256", charges: 4, payments: 1 });

    const byUnit = await cliJson<UsageJson>(["usage", "--db", labelledDb, "--by", "unit", "--payer", ALICE], {});
    assert.deepEqual(byUnit.unitTypes.map(({ unitType, amount, units }) => [unitType, amount, units]), [["llm_token", "500", "250"], ["photo", "30000", "3"], ["request", "7", "1"]]);

    const human = await cli(["usage", "--db", labelledDb, "--by", "route", "--decimals", "6"], {});
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /per route and day/);
    assert.match(human.stdout, /PERIOD\s+ROUTE\s+AMOUNT\s+UNITS\s+CHARGES\s+PAYMENTS/);
    assert.match(human.stdout, /2025-03-01\s+photos\s+0\.05\s+5\s+2\s+1/);
    assert.match(human.stdout, /total\s+all routes\s+0\.050507\s+256\s+4\s+1/);
  });

  it("lists the store's channels without a node", async () => {
    const listed = await cliJson<{ source: string; channels: { payer: string }[] }>(["channels", "--db", directDb, "--payer", ALICE], {});
    assert.equal(listed.source, "store");
    assert.deepEqual(listed.channels.map((channel) => channel.payer), [ALICE]);
  });

  it("exits 2 for bad flags and 5 for a missing database file", async () => {
    const results = await Promise.all([
      cli(["usage"]),
      cli(["usage", "--db", directDb, "--period", "week"]),
      cli(["usage", "--db", directDb, "--from", "yesterday"]),
      cli(["usage", "--db", directDb, "--from", "2025-02-01", "--to", "2025-01-01"]),
      cli(["usage", "--db", directDb, "--decimals", "6.5"]),
      cli(["usage", "--db", directDb, "--payer", "alice"]),
      cli(["usage", "--db", directDb, "--by", "month"]),
      cli(["usage", "--db", directDb, "--by", "constructor"]),
    ]);
    for (const result of results) assert.equal(result.code, 2, result.stderr);
    const missing = await cli(["usage", "--db", path.join(scratch, "nope.db")]);
    assert.equal(missing.code, 5);
    assert.match(missing.stderr, /no database at .*nope\.db/);
  });
  it("test_cli_open_channelStore_isAdoptedByCreatePayingFetch", async () => {
    const payerAccount = chain.account(6);
    await chain.mint(payerAccount.address, 5_000_000n);
    const file = path.join(scratch, "client-channels.json");
    const env = { TOLLGATE_RPC_URL: chain.rpcUrl, TOLLGATE_PRIVATE_KEY: privateKeyOf(payerAccount) };
    const opened = await cliJson<{ channelId: Hex; channelStore: string }>(
      ["open", "--payee", seller, "--amount", "2", "--channel-store", file, "--url", url],
      env,
    );
    assert.equal(opened.channelStore, file);

    const pay = createPayingFetch({
      account: payerAccount,
      chain: chain.chain,
      transport: http(chain.rpcUrl),
      maxDeposit: 1_000_000n,
      escrows: [chain.escrow],
      store: createFileChannelStore({ path: file }),
    });
    const block = await chain.publicClient.getBlockNumber();
    assert.equal((await pay(url)).status, 200);
    assert.equal((await pay(url)).status, 200);
    const channels = await pay.channels();
    assert.deepEqual(channels.map((channel) => channel.channelId), [opened.channelId], "paid through the CLI's channel, opened no other");
    assert.equal(channels[0]!.spent, 2n * PRICE);
    assert.equal(await chain.publicClient.getBlockNumber(), block, "no transaction: the channel was already open");

    // A second open into the same slot is refused before anything is sent.
    const again = await cli(["open", "--payee", seller, "--amount", "1", "--channel-store", file, "--url", url], env);
    assert.equal(again.code, 2, again.stderr);
    assert.match(again.stderr, /already holds open channel/);
    assert.equal(await chain.publicClient.getBlockNumber(), block);
    assert.equal((await cli(["open", "--payee", seller, "--amount", "1", "--channel-store", file], env)).code, 2, "--url is needed");
  });
});
