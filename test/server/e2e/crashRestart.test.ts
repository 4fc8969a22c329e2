// Issue 4, item 8: the paid server (crashServer.ts, SQLite file store) runs in a child process under
// load and is killed with SIGKILL at a random moment, three times over; each time it restarts on the same
// file. Issue 12: the same with the PostgreSQL store; on both, concurrent requests' admissions and
// commits share group commits, so the kill lands on batches in flight. No accepted voucher is lost (every voucher whose request got a 2xx is at most acceptedCumulative),
// no charge is lost (every 2xx was committed), nothing is charged twice (retries with the same
// Idempotency-Key are charged once), and reservations of requests that died are released on restart.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Address, createWalletClient, type Hex, type HDAccount, http, toHex } from "viem";
import { eip3009Abi } from "../../../sdk/src/authorization/eip3009Abi.js";
import { encodeX402Header, formatX402PaymentPayload } from "../../../sdk/src/protocol/x402.js";
import { transferWithAuthorization } from "../../../sdk/src/transactions/transferWithAuthorization.js";
import { type SessionStore } from "../../../sdk/src/server/index.js";
import pg from "pg";
import { createPostgresStore } from "../../../sdk/src/server/postgres.js";
import { createSqliteStore } from "../../../sdk/src/server/sqlite.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import type { CrashServerConfig } from "./crashServer.js";
import { credential, fetchOffer, type Offer, pay, Payer, SECRET, SELLER, sleep } from "./helpers.js";
import { authorizationSigner } from "./oneTimeFixture.js";

const PRICE = 1_000n;
const DEPOSIT = 10_000n * PRICE;
const CHANNELS = 6;
const HANGING = 3;
const CYCLES = 3;
const SERVER = fileURLToPath(new URL("./crashServer.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

type Recovered = { nonce: Hex; status: string; txHash: Hex | null };
type Started = { child: ChildProcess; port: number; url: string; released: string[]; recovered: Recovered[]; applicationName: string };
type Sent = { channelId: Hex; index: number; key: string; outcome: "ok" | "lost"; cycle: number };

const POSTGRES_URL = process.env.TOLLGATE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

describeCrashRestart("sqlite");
describeCrashRestart("postgres");

function describeCrashRestart(kind: "sqlite" | "postgres") {
  describe(`server e2e: crash (SIGKILL) and restart on the same ${kind === "sqlite" ? "SQLite file" : "PostgreSQL schema"}`, function () {
    this.timeout(120_000);
    let chain: LocalChain;
    let seller: Address;
    let payer: Payer;
    let config: CrashServerConfig;
    let store: SessionStore;
    let starts = 0;
    const children = new Set<ChildProcess>();

    before(async function () {
      chain = await startLocalChain();
      seller = chain.account(SELLER).address;
      payer = new Payer(chain, chain.account(2));
      await chain.mint(payer.address, 100_000_000n);
      config = {
        rpcUrl: chain.rpcUrl,
        chainId: chain.chain.id,
        escrow: chain.escrow,
        token: chain.token,
        sellerKey: toHex((chain.account(SELLER) as HDAccount).getHdKey().privateKey!),
        store:
          kind === "sqlite"
            ? { kind, path: join(mkdtempSync(join(tmpdir(), "tollgate-crash-")), "gate.db") }
            : { kind, connectionString: POSTGRES_URL, schema: `tollgate_crash_${process.pid}_${Date.now().toString(36)}` },
        secret: SECRET,
        price: PRICE.toString(),
      };
    });

    after(async function () {
      for (const child of children) kill(child);
      await store?.close();
      await chain?.stop();
      if (config?.store.kind === "postgres") {
        const admin = new pg.Client({ connectionString: POSTGRES_URL });
        await admin.connect();
        await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(config.store.schema)} CASCADE`);
        await admin.end();
      }
    });

    /** The test's own view of the server's store. */
    async function openStore(): Promise<SessionStore> {
      return config.store.kind === "sqlite" ? createSqliteStore({ path: config.store.path }) : await createPostgresStore({ ...config.store, maxConnections: 2 });
    }

    function kill(child: ChildProcess) {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }

    /** Starts the server; a restart takes the same port, since an Idempotency-Key is bound to the URL it paid for. */
    async function start(listenOn = 0): Promise<Started> {
      const applicationName = `tollgate-crash-${process.pid}-${++starts}`;
      const storeConfig = config.store.kind === "postgres" ? { ...config.store, connectionString: withApplicationName(POSTGRES_URL, applicationName) } : config.store;
      const child = spawn(process.execPath, ["--import", "tsx", SERVER, JSON.stringify({ ...config, store: storeConfig, port: listenOn })], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true });
      children.add(child);
      let stderr = "";
      child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const line = await new Promise<string>((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error(`the server did not start within 30 s: ${stderr}`)), 30_000);
        child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
          out += chunk;
          const end = out.indexOf("\n");
          if (end !== -1) {
            clearTimeout(timer);
            resolve(out.slice(0, end));
          }
        });
        child.once("exit", (code) => {
          clearTimeout(timer);
          reject(new Error(`the server exited (${code}) before serving: ${stderr}`));
        });
      });
      const { port, released, recovered } = JSON.parse(line) as { port: number; released: string[]; recovered: Recovered[] };
      return { child, port, url: `http://127.0.0.1:${port}`, released, recovered, applicationName };
    }

    /**
     * Kills the server. On PostgreSQL a statement the server received before the kill (a COMMIT) still
     * completes after it: wait until the killed process's sessions are gone, as a restart would in practice.
     */
    async function killNow({ child, applicationName }: Started) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      kill(child);
      await exited;
      children.delete(child);
      if (config.store.kind === "postgres") await waitForSessionsToEnd(applicationName);
    }

    it("test_crash_killedUnderLoadLosesNoVoucherAndNoChargeAndChargesNothingTwice", async function () {
      let server = await start();
      const offer: Offer = await fetchOffer(`${server.url}/work`);
      // Channels the load runs on, each accepted at 0 to begin with, and one whose requests hang.
      const channels = await openChannels(server, offer, CHANNELS);
      const hanging = (await openChannels(server, offer, 1))[0]!;
      store ??= await openStore();

      const sent: Sent[] = [];
      const hangKeys: string[][] = [];
      const killDelays: number[] = [];
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        // Requests that will be in their handler, holding a reservation, when the process dies.
        const keys = Array.from({ length: HANGING }, (_, n) => `hang-${cycle}-${n}`);
        hangKeys.push(keys);
        const hangVoucher = await payer.voucher(hanging.channelId, BigInt(HANGING * (cycle + 1)) * PRICE);
        const hung = keys.map((key) => pay(`${server.url}/hang`, credential(offer.challenge, hangVoucher), { headers: { "idempotency-key": key } }).catch(() => "lost"));
        await waitFor(async () => (await store.listCharges({ status: "reserved", channelId: hanging.channelId })).length === HANGING);

        // Load: every channel sends vouchers one after another, each paying one request, until the kill.
        let stop = false;
        const loops = channels.map(async (channel) => {
          while (!stop) {
            const index = channel.next++;
            const entry: Sent = { channelId: channel.channelId, index, key: `${channel.channelId.slice(2, 10)}-${index}`, outcome: "lost", cycle };
            sent.push(entry);
            const payload = await payer.voucher(channel.channelId, BigInt(index) * PRICE);
            try {
              const response = await pay(`${server.url}/work`, credential(offer.challenge, payload), { headers: { "idempotency-key": entry.key } });
              await response.body?.cancel();
              assert.equal(response.status, 200, `request ${entry.key} was refused with ${response.status}`);
              entry.outcome = "ok";
            } catch (error) {
              if (error instanceof assert.AssertionError) throw error;
              return; // the server died under this request
            }
          }
        });
        const delay = 100 + Math.floor(Math.random() * 500);
        killDelays.push(delay);
        await sleep(delay);
        await killNow(server);
        stop = true;
        await Promise.all([...loops, ...hung]);
        const context = `cycle ${cycle}, killed after ${killDelays.join("/")} ms`;
        assert.ok(sent.filter((entry) => entry.cycle === cycle && entry.outcome === "ok").length > 0, `no request was served before the kill (${context})`);

        // Restart on the same file: the reservations of requests that died are released.
        server = await start(server.port);
        for (const key of keys) assert.ok(server.released.includes(`idempotency:${key}`), `${key} was not released on restart (${context})`);
        assert.deepEqual(await store.listCharges({ status: "reserved" }), [], `reservations survived the restart (${context})`);

        // Nothing accepted or charged was lost, nothing charged twice.
        for (const channel of channels) {
          const record = (await store.getChannel(channel.channelId))!;
          const mine = sent.filter((entry) => entry.channelId === channel.channelId);
          const highestServed = Math.max(0, ...mine.filter((entry) => entry.outcome === "ok").map((entry) => entry.index));
          assert.ok(BigInt(highestServed) * PRICE <= record.acceptedCumulative, `a voucher that was served is not accepted after the restart (${context})`);
          const committed = await store.listCharges({ status: "committed", channelId: channel.channelId });
          const committedKeys = new Set(committed.map((charge) => charge.key));
          for (const entry of mine.filter((e) => e.outcome === "ok")) assert.ok(committedKeys.has(`idempotency:${entry.key}`), `served ${entry.key} was not charged (${context})`);
          const sentKeys = new Set(mine.map((entry) => `idempotency:${entry.key}`));
          for (const key of committedKeys) assert.ok(sentKeys.has(key), `charge ${key} was never requested (${context})`);
          assert.equal(committed.length, committedKeys.size);
          assert.equal(record.spent, BigInt(committed.length) * PRICE, `spent disagrees with the charges (${context})`);
          assert.equal(record.reserved, 0n);
          assert.ok(record.spent <= record.acceptedCumulative);
        }

        // The client retries what died, with the same keys: each request ends up charged exactly once.
        for (const entry of sent.filter((e) => e.outcome === "lost" && e.cycle === cycle)) {
          const payload = await payer.voucher(entry.channelId, BigInt(entry.index) * PRICE);
          const response = await pay(`${server.url}/work`, credential(offer.challenge, payload), { headers: { "idempotency-key": entry.key } });
          assert.equal(response.status, 200, await response.text());
          entry.outcome = "ok";
        }
        for (const channel of channels) {
          const record = (await store.getChannel(channel.channelId))!;
          const requests = sent.filter((entry) => entry.channelId === channel.channelId).length;
          assert.equal(record.spent, BigInt(requests) * PRICE, `after retries: every request charged once (${context})`);
          assert.equal(record.acceptedCumulative, BigInt(requests) * PRICE);
        }
        // The hanging channel's balance is whole again: what the dead requests held is spendable.
        const hangingRecord = (await store.getChannel(hanging.channelId))!;
        assert.deepEqual([hangingRecord.spent, hangingRecord.reserved], [0n, 0n]);
      }

      // The restarted server still closes with everything accepted: exact payout on-chain.
      const [first] = channels;
      const record = (await store.getChannel(first!.channelId))!;
      const sellerBefore = await chain.balanceOf(seller);
      const close = await pay(
        `${server.url}/work`,
        credential(offer.challenge, { action: "close", channelId: first!.channelId, cumulativeAmount: record.acceptedCumulative, signature: await payer.sign(first!.channelId, record.acceptedCumulative) }),
        { method: "POST" },
      );
      assert.equal(close.status, 200, await close.text());
      assert.equal(await chain.balanceOf(seller), sellerBefore + record.spent);
      await killNow(server);
    });

    it("test_crash_killedUnderLoadWithoutIdempotencyKeysLosesNoServedVoucherAndChargesOnlyWhatWasSent", async function () {
      // Requests without an Idempotency-Key are admitted in process (nothing stored before the handler) and
      // charged with one write: a kill loses the requests in flight, never a served one's voucher or charge.
      await chain.mint(payer.address, BigInt(CHANNELS) * DEPOSIT);
      let server = await start();
      const offer: Offer = await fetchOffer(`${server.url}/work`);
      const channels = (await openChannels(server, offer, CHANNELS)).map((channel) => ({ ...channel, sent: 0, served: [] as number[] }));
      store ??= await openStore();
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        let stop = false;
        const loops = channels.map(async (channel) => {
          while (!stop) {
            const index = channel.next++;
            channel.sent += 1;
            const payload = await payer.voucher(channel.channelId, BigInt(index) * PRICE);
            try {
              const response = await pay(`${server.url}/work`, credential(offer.challenge, payload));
              await response.body?.cancel();
              assert.equal(response.status, 200, `request ${index} was refused with ${response.status}`);
              channel.served.push(index);
            } catch (error) {
              if (error instanceof assert.AssertionError) throw error;
              return; // the server died under this request
            }
          }
        });
        const delay = 100 + Math.floor(Math.random() * 500);
        await sleep(delay);
        await killNow(server);
        stop = true;
        await Promise.all(loops);
        server = await start(server.port);
        const context = `cycle ${cycle}, killed after ${delay} ms`;
        assert.ok(channels.some((channel) => channel.served.length > 0), `no request was served before the kill (${context})`);
        assert.deepEqual(await store.listCharges({ status: "reserved" }), [], context);
        for (const channel of channels) {
          const record = (await store.getChannel(channel.channelId))!;
          const charged = (await store.listCharges({ status: "committed", channelId: channel.channelId })).length;
          assert.ok(BigInt(Math.max(0, ...channel.served)) * PRICE <= record.acceptedCumulative, `a served voucher is not accepted after the restart (${context})`);
          // Every served request is charged; a request whose response the kill cut off may be too, no other.
          assert.ok(charged >= channel.served.length && charged <= channel.sent, `${charged} charges for ${channel.served.length} served of ${channel.sent} sent (${context})`);
          assert.deepEqual([record.spent, record.reserved], [BigInt(charged) * PRICE, 0n], context);
          assert.ok(record.spent <= record.acceptedCumulative, context);
        }
      }
      await killNow(server);
    });

    /** Channels opened on-chain and announced to the server (accepted at 0), their next voucher index 1. */
    async function openChannels(server: Started, offer: Offer, count: number): Promise<{ channelId: Hex; next: number }[]> {
      const channels: { channelId: Hex; next: number }[] = [];
      for (let i = 0; i < count; i++) {
        const opened = await payer.openOnChain(seller, DEPOSIT);
        const open = await pay(`${server.url}/work`, credential(offer.challenge, await payer.openPayload(opened, 0n), payer.source), { method: "HEAD" });
        assert.equal(open.status, 204);
        channels.push({ channelId: opened.channelId, next: 1 });
      }
      return channels;
    }

    it("test_crash_pendingOneTimePayments_areResolvedFromTheChainOnRestart", async function () {
      let server = await start();
      store ??= await openStore();
      const sign = await authorizationSigner(chain, payer.account);
      const network = `eip155:${chain.chain.id}`;
      const signed = [await sign({ to: seller, value: PRICE }), await sign({ to: seller, value: PRICE })];
      const header = ({ authorization, signature }: (typeof signed)[number]) =>
        encodeX402Header(
          formatX402PaymentPayload({ x402Version: 2, scheme: "exact", network, accepted: { scheme: "exact", network, amount: PRICE, asset: chain.token, payTo: seller }, authorization, signature }),
        );
      // Two x402 payments whose handlers never answer: recorded pending, not settled, when the process dies.
      const hung = signed.map((payment) => fetch(`${server.url}/hang`, { headers: { "payment-signature": header(payment) } }).catch(() => "lost"));
      await waitFor(async () => (await store.listPayments({ status: "pending" })).length === 2);
      await killNow(server);
      await Promise.all(hung);

      // The first authorization is used on-chain after the death (as the dead process's transfer would be).
      const [used, unused] = signed as [(typeof signed)[number], (typeof signed)[number]];
      const relayer = createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl), account: chain.account(5) });
      const { hash } = await transferWithAuthorization({ client: relayer, publicClient: chain.publicClient, token: chain.token, authorization: used.authorization, signature: used.signature });
      const sellerBefore = await chain.balanceOf(seller);

      server = await start(server.port);
      const byNonce = new Map(server.recovered.map((payment) => [payment.nonce, payment]));
      assert.deepEqual(byNonce.get(used.authorization.nonce), { nonce: used.authorization.nonce, status: "settled", txHash: hash }, "used on-chain: settled, with the transaction that used it");
      assert.deepEqual(byNonce.get(unused.authorization.nonce), { nonce: unused.authorization.nonce, status: "released", txHash: null }, "never settled: its response never left, released");
      assert.deepEqual(await store.listPayments({ status: "pending" }), []);
      assert.equal(await chain.balanceOf(seller), sellerBefore, "recovery transfers nothing");
      assert.equal(await chain.publicClient.readContract({ address: chain.token, abi: eip3009Abi, functionName: "authorizationState", args: [payer.address, unused.authorization.nonce] }), false);

      // The released authorization stays recorded: presented again, it is refused and never served.
      const replay = await fetch(`${server.url}/work`, { headers: { "payment-signature": header(unused) } });
      assert.equal(replay.status, 402);
      assert.equal((await replay.json()).reason, "nonce-used");
      await killNow(server);
    });
  });
}

async function waitFor(condition: () => Promise<boolean>, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(10);
  }
}

function withApplicationName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set("application_name", name);
  return parsed.href;
}

async function waitForSessionsToEnd(applicationName: string) {
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await waitFor(async () => (await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [applicationName])).rows[0].n === 0, 20_000);
  } finally {
    await admin.end();
  }
}
