// npm run bench:server — what the payment gate costs a server. The same handler is served unpaid and paid
// (through the gate, reserve mode, a fresh voucher on every request) by a server in its own process, with
// the SQLite and then the PostgreSQL store; autocannon loads it over loopback from this process, each
// connection sending its requests one after another, the requests taking ten channels in turn. Vouchers are signed
// before the timed runs. Two measurements per store and route: throughput with every connection sending
// as fast as it is answered (saturated), and latency with one connection (sequential requests), where no
// queueing hides what the gate adds to a request. (autocannon's fixed-rate mode sends each second's
// quota in a burst, so it measures saturation again.) On PostgreSQL the paid saturated run is repeated
// with the server as a Node cluster of two processes on the same schema, and on both stores once more
// with one voucher per ten requests (a client's `prepayRequests: 10n`: the other nine replay it, and the
// gate admits a replay without checking its signature again). Prints a table, then issue 12's
// targets beside the measured figures, and writes bench/results/server.json with the load averages
// (`uptime`'s) before, after and at the end of each run: on a shared machine the figures are low.
//
// The server runs the SDK as its package ships it (sdk/dist, which `npm run bench:server` builds first),
// with V8's young generation at 64 MiB per semi-space (`--max-semi-space-size=64`), as docs/server.md
// recommends for a gate's process: with Node's default the paid path's allocations trigger a scavenge
// every few hundred requests, and those pauses were the one-connection p99.
//
// BENCH_DURATION (seconds per run, default 10), BENCH_CONNECTIONS (default 10), BENCH_CPU_PROF=1
// (write the server's CPU profiles to bench/results/profiles/), BENCH_CHARGE_MODE=charge (the gate's
// one-transaction mode; results in bench/results/server-charge.json) and BENCH_SEMI_SPACE (MiB per
// semi-space for the server; 0 leaves Node's default) tune a run.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import pg from "pg";
import { bytesToHex, createWalletClient, type HDAccount, type Hex, http, toHex } from "viem";
import { decodeChallengeRequest, formatCredential, parseChallenges, type PaymentChallenge } from "../sdk/src/protocol/index.js";
import { type SessionStore } from "../sdk/src/server/index.js";
import { createPostgresStore } from "../sdk/src/server/postgres.js";
import { createSqliteStore } from "../sdk/src/server/sqlite.js";
import { openChannel } from "../sdk/src/transactions/openChannel.js";
import { voucherDigestBytes } from "../sdk/src/voucher/voucherDigestBytes.js";
import { startLocalChain } from "../scripts/localChain.js";
import type { BenchServerConfig } from "./serverProcess.js";

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARM_UP = 3;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const CPU_PROF = process.env.BENCH_CPU_PROF === "1";
const SEMI_SPACE_MIB = Number(process.env.BENCH_SEMI_SPACE ?? 64);
const SERVER_FLAGS = SEMI_SPACE_MIB > 0 ? [`--max-semi-space-size=${SEMI_SPACE_MIB}`] : [];
const CHARGE_MODE = process.env.BENCH_CHARGE_MODE === "charge" ? "charge" : "reserve";
const RESULTS = CHARGE_MODE === "reserve" ? "bench/results/server.json" : "bench/results/server-charge.json";
const PRICE = 1_000n;
const PREPAY_WINDOW = 10;
const SECRET = "bench:server secret, thirty-two bytes or more";
const POSTGRES_URL = process.env.TOLLGATE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SERVER = fileURLToPath(new URL("./serverProcess.ts", import.meta.url));
const native = createRequire(import.meta.url)("secp256k1/bindings") as { ecdsaSign(message: Uint8Array, key: Uint8Array): { signature: Uint8Array; recid: number } };

let payerPrivateKey: Uint8Array | undefined;

type Run = {
  requestsPerSecond: number;
  requests: number;
  responses: number;
  non2xx: number;
  errors: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** CPU time (user + system) the server's processes spent per response: unlike rates, barely moved by other load on the machine. */
  serverCpuUsPerResponse: number;
};
type Server = { url: string; pid: number; stop(): Promise<void> };
/** How a paid run's requests carry vouchers: a fresh one each, or one per `PREPAY_WINDOW` requests (replayed). */
type Vouchers = "fresh" | "window";
type Case = { store: "sqlite" | "postgres"; route: "unpaid" | "paid"; vouchers?: Vouchers; load: "saturated" | "sequential"; connections: number; processes: number; loadAverage: number[] } & Run;

const chain = await startLocalChain();
const children = new Set<ChildProcess>();
const cleanup = async () => {
  for (const child of children) child.kill("SIGKILL");
  await chain.stop();
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}

try {
  const seller = chain.account(1);
  const payer = chain.account(3) as HDAccount;
  await chain.mint(payer.address, 10n ** 15n);
  const payerWallet = createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl), account: payer });
  const loadBefore = os.loadavg();
  const cases: Case[] = [];

  for (const kind of ["sqlite", "postgres"] as const) {
    const schema = `tollgate_bench_${process.pid}_${Date.now().toString(36)}`;
    const storeConfig: BenchServerConfig["store"] =
      kind === "sqlite" ? { kind, path: join(mkdtempSync(join(os.tmpdir(), "tollgate-bench-")), "gate.db") } : { kind, connectionString: POSTGRES_URL, schema };
    const serverConfig: BenchServerConfig = {
      rpcUrl: chain.rpcUrl,
      chainId: chain.chain.id,
      escrow: chain.escrow,
      token: chain.token,
      sellerKey: toHex((seller as HDAccount).getHdKey().privateKey!),
      secret: SECRET,
      price: PRICE.toString(),
      chargeMode: CHARGE_MODE,
      store: storeConfig,
    };
    let server = await startServer(serverConfig, kind);
    const record = (c: Omit<Case, "store" | "processes" | "loadAverage"> & { processes?: number }) =>
      cases.push({ store: kind, processes: 1, ...c, loadAverage: os.loadavg().map((value) => round(value, 2)) });
    try {
      // Unpaid first: its rate sizes the voucher pool of the paid run.
      await load(server, "/unpaid", WARM_UP);
      const unpaid = await load(server, "/unpaid", DURATION);
      record({ route: "unpaid", load: "saturated", connections: CONNECTIONS, ...unpaid });

      const challenge = await challengeOf(`${server.url}/paid`);
      const channels: { channelId: Hex; headers: string[]; next: number }[] = [];
      /**
       * Adds `count` more requests' credentials for each of `which` channels: a fresh voucher each, one
       * price above the last, or (`window`) each voucher covering the next `window` requests, sent for each.
       */
      const signMore = (count: number, which = channels, window = 1) => {
        for (const channel of which) {
          const from = channel.headers.length + 1;
          for (let n = from; n < from + count; n += window) {
            const amount = BigInt(n + window - 1) * PRICE;
            const header = credentialFor(challenge, { action: "voucher", channelId: channel.channelId, cumulativeAmount: amount.toString(), signature: sign(channel.channelId, amount) });
            for (let i = 0; i < window; i++) channel.headers.push(header);
          }
        }
      };
      /** Forgets the credentials no run sent, so that the next pool continues from what the gate has seen. */
      const dropUnsent = () => {
        for (const channel of channels) channel.headers.length = channel.next;
      };
      // Paid cannot outrun unpaid: the unpaid rate (with a margin) bounds what the saturated run spends.
      const perConnection = Math.ceil(((unpaid.requestsPerSecond * 1.1 + 200) * (DURATION + WARM_UP)) / CONNECTIONS);
      process.stderr.write(`${kind}: opening ${CONNECTIONS} channels, signing ${perConnection * CONNECTIONS} vouchers\n`);
      for (let i = 0; i < CONNECTIONS; i++) {
        // More than any run can spend.
        const deposit = 10_000_000n * PRICE;
        const salt = toHex(crypto.getRandomValues(new Uint8Array(32)));
        const { hash, channelId } = await openChannel({ client: payerWallet, publicClient: chain.publicClient, escrow: chain.escrow, payee: seller.address, token: chain.token, deposit, salt });
        // The open (type hash) over HEAD: the channel is known to the gate before the timed runs.
        const open = credentialFor(challenge, { action: "open", type: "hash", channelId, hash, cumulativeAmount: "0", signature: sign(channelId, 0n), salt }, `did:pkh:eip155:${chain.chain.id}:${payer.address}`);
        const response = await fetch(`${server.url}/paid`, { method: "HEAD", headers: { authorization: open } });
        if (response.status !== 204) throw new Error(`open answered ${response.status}`);
        channels.push({ channelId, headers: [], next: 0 });
      }
      signMore(perConnection);
      let assigned = 0;
      /** autocannon options sending each request with the next credential of the channel `pick` gives. */
      const paidWith = (pick: () => (typeof channels)[number]) => ({
        setupRequest: (request: Record<string, unknown>) => {
          const channel = pick();
          const authorization = channel.headers[channel.next++];
          if (authorization === undefined) throw new Error("the voucher pool ran out: raise its size");
          return { ...request, headers: { ...(request.headers as object), authorization } };
        },
      });
      // autocannon starts each request with a fresh context: requests take the channels in turn.
      const paidOptions = paidWith(() => channels[assigned++ % channels.length]!);
      const warmUp = await load(server, "/paid", WARM_UP, paidOptions);
      const paid = await load(server, "/paid", DURATION, paidOptions);
      record({ route: "paid", vouchers: "fresh", load: "saturated", connections: CONNECTIONS, ...paid });
      // The same, with one voucher per PREPAY_WINDOW requests.
      dropUnsent();
      signMore(perConnection, channels, PREPAY_WINDOW);
      const windowWarmUp = await load(server, "/paid", WARM_UP, paidOptions);
      const windowPaid = await load(server, "/paid", DURATION, paidOptions);
      record({ route: "paid", vouchers: "window", load: "saturated", connections: CONNECTIONS, ...windowPaid });

      // Latency with one connection, on one channel continuing its vouchers; its pool is signed first,
      // outside the timed run (one connection cannot outrun ten).
      dropUnsent();
      const next = channels[0]!;
      signMore(Math.ceil(paid.requestsPerSecond * (DURATION + 1) * 1.2), [next]);
      const unpaidSequential = await load(server, "/unpaid", DURATION, {}, 1);
      record({ route: "unpaid", load: "sequential", connections: 1, ...unpaidSequential });
      const paidSequential = await load(server, "/paid", DURATION, paidWith(() => next), 1);
      record({ route: "paid", vouchers: "fresh", load: "sequential", connections: 1, ...paidSequential });
      let answeredByCluster = 0;
      if (kind === "postgres") {
        // The same channels, paid through two server processes on the same schema (docs/server.md,
        // "Several processes"), against the one-process saturated run above.
        await server.stop();
        server = await startServer({ ...serverConfig, processes: 2 }, `${kind}-2`);
        dropUnsent();
        signMore(perConnection);
        const clusterWarmUp = await load(server, "/paid", WARM_UP, paidOptions);
        const clusterPaid = await load(server, "/paid", DURATION, paidOptions);
        record({ route: "paid", vouchers: "fresh", load: "saturated", connections: CONNECTIONS, processes: 2, ...clusterPaid });
        answeredByCluster = clusterWarmUp.responses + clusterPaid.responses;
      }

      // Every paid response was charged: the store agrees with the load generator. Requests in flight when
      // a run ended were sent (and may be charged) without their response being counted.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const sent = channels.reduce((sum, channel) => sum + channel.next, 0);
      const answered = warmUp.responses + paid.responses + windowWarmUp.responses + windowPaid.responses + paidSequential.responses + answeredByCluster;
      const store: SessionStore = kind === "sqlite" ? createSqliteStore({ path: (storeConfig as { path: string }).path }) : await createPostgresStore({ connectionString: POSTGRES_URL, schema, maxConnections: 2 });
      const charged = Number((await store.listChannels()).reduce((sum, channel) => sum + channel.spent, 0n) / PRICE);
      await store.close();
      if (charged < answered || charged > sent) throw new Error(`${kind}: ${answered} paid responses (${sent} sent) but ${charged} charged`);
    } finally {
      await server.stop();
      if (kind === "postgres") {
        const admin = new pg.Client({ connectionString: POSTGRES_URL });
        await admin.connect();
        await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
        await admin.end();
      }
    }
  }

  const summary = (["sqlite", "postgres"] as const).map((store) => {
    const find = (route: Case["route"], load: Case["load"], vouchers?: Vouchers) =>
      cases.find((c) => c.store === store && c.route === route && c.load === load && c.processes === 1 && (route === "unpaid" || c.vouchers === (vouchers ?? "fresh")))!;
    const [unpaid, paid] = [find("unpaid", "saturated"), find("paid", "saturated")];
    const [unpaidSequential, paidSequential] = [find("unpaid", "sequential"), find("paid", "sequential")];
    const cluster = cases.find((c) => c.store === store && c.processes === 2);
    return {
      store,
      paidToUnpaidThroughput: round(paid.requestsPerSecond / unpaid.requestsPerSecond, 3),
      windowPaidToUnpaidThroughput: round(find("paid", "saturated", "window").requestsPerSecond / unpaid.requestsPerSecond, 3),
      saturatedAddedP99Ms: round(paid.latencyMs.p99 - unpaid.latencyMs.p99, 3),
      addedP50Ms: round(paidSequential.latencyMs.p50 - unpaidSequential.latencyMs.p50, 3),
      addedP99Ms: round(paidSequential.latencyMs.p99 - unpaidSequential.latencyMs.p99, 3),
      ...(cluster ? { twoProcessesToOnePaidThroughput: round(cluster.requestsPerSecond / paid.requestsPerSecond, 3) } : {}),
    };
  });
  const [sqlite, postgres] = summary as [(typeof summary)[0], (typeof summary)[0]];
  // Issue 12's targets for this benchmark, each beside what this run measured.
  const targets = [
    { measure: "paid / unpaid throughput, SQLite, 10 connections", target: "≥ 0.50", measured: sqlite.paidToUnpaidThroughput, met: sqlite.paidToUnpaidThroughput >= 0.5 },
    { measure: "paid / unpaid throughput, PostgreSQL, 10 connections", target: "≥ 0.30", measured: postgres.paidToUnpaidThroughput, met: postgres.paidToUnpaidThroughput >= 0.3 },
    {
      measure: `paid / unpaid throughput, SQLite, one voucher per ${PREPAY_WINDOW} requests`,
      target: "≥ 0.50",
      measured: sqlite.windowPaidToUnpaidThroughput,
      met: sqlite.windowPaidToUnpaidThroughput >= 0.5,
    },
    {
      measure: `paid / unpaid throughput, PostgreSQL, one voucher per ${PREPAY_WINDOW} requests`,
      target: "≥ 0.30",
      measured: postgres.windowPaidToUnpaidThroughput,
      met: postgres.windowPaidToUnpaidThroughput >= 0.3,
    },
    { measure: "added latency at p99, one connection, SQLite (ms)", target: "≤ 1", measured: sqlite.addedP99Ms, met: sqlite.addedP99Ms <= 1 },
    { measure: "added latency at p99, one connection, PostgreSQL (ms)", target: "≤ 3", measured: postgres.addedP99Ms, met: postgres.addedP99Ms <= 3 },
    {
      measure: "paid throughput, 2 server processes on one PostgreSQL vs 1",
      target: "≥ 1.6",
      measured: postgres.twoProcessesToOnePaidThroughput ?? Number.NaN,
      met: (postgres.twoProcessesToOnePaidThroughput ?? 0) >= 1.6,
    },
  ];
  const results = {
    date: new Date().toISOString(),
    command: CHARGE_MODE === "reserve" ? "npm run bench:server" : "BENCH_CHARGE_MODE=charge npm run bench:server",
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryGiB: round(os.totalmem() / 2 ** 30, 1),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      // `uptime`'s 1, 5 and 15 minute load averages; each case also records them as it ended. Above the
      // core count the machine was shared and every figure is low.
      loadAverageBefore: loadBefore.map((value) => round(value, 2)),
      loadAverageAfter: os.loadavg().map((value) => round(value, 2)),
    },
    setup: {
      processes: "server (node:http + SDK node adapter + gate, the built SDK in sdk/dist) in one process (the 2-process case: a Node cluster of two), autocannon in another, hardhat node in a third (idle during runs)",
      connections: `${CONNECTIONS} (saturated runs) and 1 (sequential runs)`,
      pipelining: 1,
      secondsPerRun: DURATION,
      warmUpSeconds: WARM_UP,
      chargeMode: CHARGE_MODE,
      serverNodeFlags: SERVER_FLAGS.join(" ") || "(Node's defaults)",
      paidRequest: `a fresh voucher per request (one price higher), or (vouchers "window") one voucher per ${PREPAY_WINDOW} requests sent with each of them; ten channels taken in turn by the requests (one channel in the one-connection run), vouchers signed before the run`,
      latency: "per-response times from autocannon's response events, exact percentiles; added latency is taken from the one-connection runs",
    },
    cases,
    summary,
    targets,
  };
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(join(ROOT, RESULTS), `${JSON.stringify(results, null, 2)}\n`);

  console.log(`\nbench:server (${CHARGE_MODE} mode) — ${CONNECTIONS} connections, ${DURATION} s per run, ${results.machine.cpus} cpus, node ${process.version}, server flags ${results.setup.serverNodeFlags}, load average ${results.machine.loadAverageBefore.join(" ")} before, ${results.machine.loadAverageAfter.join(" ")} after\n`);
  console.log("| store    | route  | vouchers | load              | procs |  req/s | p50 ms | p90 ms | p99 ms | server CPU µs/response | load avg (1 min) |");
  console.log("|----------|--------|----------|-------------------|------:|-------:|-------:|-------:|-------:|-----------------------:|-----------------:|");
  for (const c of cases) {
    const loadName = `${c.load} (${c.connections})`;
    console.log(`| ${c.store.padEnd(8)} | ${c.route.padEnd(6)} | ${(c.vouchers === undefined ? "" : c.vouchers === "fresh" ? "each" : `1 per ${PREPAY_WINDOW}`).padEnd(8)} | ${loadName.padEnd(17)} | ${String(c.processes).padStart(5)} | ${c.requestsPerSecond.toFixed(0).padStart(6)} | ${c.latencyMs.p50.toFixed(2).padStart(6)} | ${c.latencyMs.p90.toFixed(2).padStart(6)} | ${c.latencyMs.p99.toFixed(2).padStart(6)} | ${c.serverCpuUsPerResponse.toFixed(0).padStart(22)} | ${c.loadAverage[0]!.toFixed(2).padStart(16)} |`);
  }
  console.log("\n| measure (issue 12) | target | measured | met |");
  console.log("|---|---|---:|---|");
  for (const t of targets) console.log(`| ${t.measure} | ${t.target} | ${t.measured} | ${t.met ? "yes" : "no"} |`);
  console.log("");
  for (const s of summary) {
    console.log(`${s.store}: paid/unpaid throughput ${s.paidToUnpaidThroughput} (one voucher per ${PREPAY_WINDOW} requests: ${s.windowPaidToUnpaidThroughput}); one connection: the gate adds ${s.addedP50Ms} ms at p50, ${s.addedP99Ms} ms at p99 (saturated: ${s.saturatedAddedP99Ms} ms at p99)`);
  }
  console.log(`wrote ${RESULTS}`);
} finally {
  await cleanup();
}

function sign(channelId: Hex, cumulativeAmount: bigint): Hex {
  const digest = voucherDigestBytes({ chainId: chain.chain.id, escrow: chain.escrow, channelId, cumulativeAmount });
  const { signature, recid } = native.ecdsaSign(digest, payerKey());
  return `${bytesToHex(signature)}${(27 + recid).toString(16)}` as Hex;
}

function payerKey(): Uint8Array {
  payerPrivateKey ??= (chain.account(3) as HDAccount).getHdKey().privateKey!;
  return payerPrivateKey;
}

function credentialFor(challenge: PaymentChallenge, payload: Record<string, unknown>, source?: string): string {
  return formatCredential({ challenge, payload, ...(source ? { source } : {}) });
}

async function challengeOf(url: string): Promise<PaymentChallenge> {
  const response = await fetch(url);
  const header = response.headers.get("www-authenticate");
  if (response.status !== 402 || header === null) throw new Error(`${url} did not answer with a challenge`);
  const [challenge] = parseChallenges(header);
  decodeChallengeRequest(challenge!.request);
  return challenge!;
}

async function startServer(config: BenchServerConfig, label: string): Promise<Server> {
  const profiles = join(ROOT, "bench/results/profiles");
  if (CPU_PROF) mkdirSync(profiles, { recursive: true });
  const flags = [...SERVER_FLAGS, ...(CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${profiles}`, `--cpu-prof-name=server-${label}-${Date.now()}.cpuprofile`] : [])];
  const child = spawn(process.execPath, [...flags, "--import", "tsx", SERVER, JSON.stringify(config)], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  children.add(child);
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")));
    });
    child.once("exit", (code) => reject(new Error(`the bench server exited (${code})`)));
  });
  const { port } = JSON.parse(line) as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => {
          children.delete(child);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}

async function load(server: Server, path: string, duration: number, requestOptions: Record<string, unknown> = {}, connections = CONNECTIONS): Promise<Run> {
  const url = `${server.url}${path}`;
  const latencies: number[] = [];
  const cpuBefore = cpuSeconds(server.pid);
  const instance = autocannon({ url, connections, pipelining: 1, duration, requests: [{ method: "GET", ...requestOptions }] });
  instance.on("response", (_client: unknown, _status: number, _bytes: number, responseTime: number) => latencies.push(responseTime));
  const result = await instance;
  const cpu = cpuSeconds(server.pid) - cpuBefore;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN, 3);
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx responses and ${result.errors} errors`);
  return {
    requestsPerSecond: round(result.requests.total / duration, 1),
    requests: result.requests.total,
    responses: latencies.length,
    non2xx: result.non2xx,
    errors: result.errors,
    latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: round(latencies.at(-1) ?? Number.NaN, 3) },
    serverCpuUsPerResponse: round((cpu * 1e6) / latencies.length, 1),
  };
}

/** CPU seconds (user + system) of process `pid` and its children so far (a cluster's workers), from /proc. */
function cpuSeconds(pid: number): number {
  const ticks = 100; // USER_HZ on Linux
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return Number.NaN;
  }
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const own = (Number(fields[11]) + Number(fields[12])) / ticks;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
  return own + (children === "" ? 0 : children.split(" ").reduce((sum, child) => sum + cpuSeconds(Number(child)), 0));
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
