// The SDK as a user gets it: `npm run build:sdk`, `npm pack`, the tarball installed offline (warm npm
// cache) into a scratch project outside the repository, so nothing resolves from the workspace's
// node_modules. There a consumer type-checks with skipLibCheck off and without @types/pg, the portable
// entries bundle for a browser and a worker with esbuild (tollgate/react with React, its optional peer,
// installed; the client's bundle without React), and one request is paid for on a local chain.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { build, type BuildFailure } from "esbuild";
import hre from "hardhat";
import { type LocalChain, startLocalChain } from "../../scripts/localChain.js";

const ROOT = hre.config.paths.root;
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
const rootPackage = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
const PORTABLE_ENTRIES = ["tollgate", "tollgate/protocol", "tollgate/client", "tollgate/server", "tollgate/react"];
const TEST_MNEMONIC = "test test test test test test test test test test test junk";
const SELLER = 1;
const BUYER = 2;

/** Runs a command; rejects with its output when it exits non-zero. */
function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolvePromise(output) : reject(new Error(`${command} ${args.join(" ")} exited ${code}:\n${output}`))));
  });
}

/**
 * The environment without what `npm test` exports to its scripts (npm_config_local_prefix and the
 * like would point a nested npm at the workspace); the npm cache and user config stay.
 */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith("npm_") || ["npm_config_cache", "npm_config_userconfig"].includes(key.toLowerCase())) env[key] = value;
  }
  return { ...env, ...extra };
}

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

const tsconfig = (compilerOptions: object, include: string[]) =>
  JSON.stringify({
    compilerOptions: { target: "ES2022", module: "nodenext", moduleResolution: "nodenext", strict: true, skipLibCheck: false, ...compilerOptions },
    include,
  });

// A browser or worker consumer: no @types/node, so a Node type reached from these entries fails the check.
const BROWSER_CONSUMER = `
import { parseTokenAmount } from "tollgate";
import { createPayingFetch, createMemoryChannelStore, type PayingFetch } from "tollgate/client";
import { createPaymentGate, createMemoryStore, type SessionRoute } from "tollgate/server";
import { parseReceipt } from "tollgate/protocol";
import { usePayingFetch, type UsePayingFetchReturnType } from "tollgate/react";
import type { Chain, LocalAccount } from "viem";

export function seller(route: SessionRoute): (request: Request) => Promise<Response> {
  return (request) => route.handle(request, async (_request, payment) => Response.json({ channel: payment.method === "session" ? payment.channelId : null }));
}
export function gate(chain: Chain, account: LocalAccount, currency: \`0x\${string}\`, escrow: \`0x\${string}\`) {
  return createPaymentGate({ chain, account, currency, escrow, store: createMemoryStore(), secret: "a secret of at least 32 bytes, for types only" });
}
export function buyer(chain: Chain, account: LocalAccount): PayingFetch {
  return createPayingFetch({ chain, account, maxDeposit: parseTokenAmount({ value: "1", decimals: 6 }), store: createMemoryChannelStore() });
}
export const spent = (header: string) => parseReceipt(header).spent;
export function useBuyer(chain: Chain, account: LocalAccount): UsePayingFetchReturnType {
  return usePayingFetch({ chain, account, maxDeposit: 1_000_000n });
}
`;

// A Node seller and buyer over the installed package's Node-only subpaths; compiled, then run by the test.
const NODE_CONSUMER = `
import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPayingFetch } from "tollgate/client";
import { createFileChannelStore } from "tollgate/client/file-store";
import { createPaymentGate, StoreError } from "tollgate/server";
import { clientErrorHandler, toNodeHandler } from "tollgate/server/node";
import { createPostgresStore } from "tollgate/server/postgres";
import { createSqliteStore } from "tollgate/server/sqlite";
import { parseReceipt } from "tollgate/protocol";
import { defineChain, http } from "viem";
import { mnemonicToAccount } from "viem/accounts";

const env = (name: string) => process.env[name] ?? "";
const address = (name: string) => env(name) as \`0x\${string}\`;
const chain = defineChain({
  id: 31337,
  name: "local",
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: [env("RPC_URL")] } },
});
const account = (index: number) => mnemonicToAccount(env("MNEMONIC"), { addressIndex: index });
const dir = mkdtempSync(join(tmpdir(), "tollgate-consumer-"));

// pg is an optional peer that this project did not install.
let postgres: { reason?: string; message: string };
try {
  await createPostgresStore({ connectionString: "postgres://127.0.0.1:1/none" });
  postgres = { message: "created" };
} catch (error) {
  postgres = { reason: error instanceof StoreError ? error.reason : undefined, message: (error as Error).message };
}

const store = createSqliteStore({ path: join(dir, "gate.db") });
const gate = createPaymentGate({
  chain,
  transport: http(env("RPC_URL")),
  escrow: address("ESCROW"),
  currency: address("TOKEN"),
  account: account(Number(env("SELLER"))),
  store,
  secret: "the scratch project's gate secret, 32+ bytes",
});
const route = gate.session({ amount: 10_000n, unitType: "request", suggestedDeposit: 1_000_000n });
const server = createServer(toNodeHandler((request) => route.handle(request, async () => Response.json({ paid: true }))));
server.on("clientError", clientErrorHandler);
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = \`http://127.0.0.1:\${(server.address() as AddressInfo).port}/paid\`;

const pay = createPayingFetch({
  account: account(Number(env("BUYER"))),
  chain,
  transport: http(env("RPC_URL")),
  maxDeposit: 1_000_000n,
  escrows: [address("ESCROW")],
  store: createFileChannelStore({ path: join(dir, "channels.json") }),
});
const response = await pay(url);
const body = await response.json();
const receipt = parseReceipt(response.headers.get("payment-receipt") ?? "");
const channels = await pay.channels();
const charged = await store.usage({ period: "day" });
server.closeAllConnections();
server.close();
await store.close();
console.log(
  JSON.stringify({
    status: response.status,
    body,
    spent: String(receipt.spent),
    deposit: String(channels[0]?.deposit),
    charged: charged.map((row) => String(row.amount)),
    postgres,
  }),
);
`;

describe("package: the packed SDK installs, type-checks, bundles and pays in a scratch project", function () {
  this.timeout(300_000);
  let work: string;
  let scratch: string;
  let packed: { filename: string; files: { path: string }[] };

  before(async function () {
    work = mkdtempSync(join(tmpdir(), "tollgate-scratch-"));
    scratch = join(work, "consumer");
    await run("npm", ["run", "build:sdk"], { cwd: ROOT });
    [packed] = JSON.parse(await run("npm", ["pack", "--json", "--pack-destination", work], { cwd: join(ROOT, "sdk") }));
    write(join(scratch, "package.json"), JSON.stringify({ name: "scratch-consumer", private: true, type: "module" }));
    const install = [
      "install",
      "--no-audit",
      "--no-fund",
      join(work, packed.filename),
      `viem@${rootPackage.devDependencies.viem}`,
      `@types/node@${rootPackage.devDependencies["@types/node"]}`,
      // tollgate/react's optional peer, as a React app has it.
      `react@${rootPackage.devDependencies.react}`,
      `@types/react@${rootPackage.devDependencies["@types/react"]}`,
    ];
    try {
      await run("npm", [...install, "--offline"], { cwd: scratch });
    } catch {
      await run("npm", [...install, "--prefer-offline"], { cwd: scratch });
    }
  });

  after(function () {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("test_package_tarballHasReadmeLicenseAndSourceMapsThatResolve", function () {
    const files = new Set(packed.files.map(({ path }) => path));
    for (const name of ["README.md", "LICENSE", "package.json"]) assert.ok(files.has(name), `${name} is missing from the tarball`);
    const maps = [...files].filter((path) => path.endsWith(".map"));
    assert.ok(maps.length > 0, "the tarball has no source maps");
    const installed = join(scratch, "node_modules/tollgate");
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(installed, map), "utf8")) as { sources: string[] };
      for (const source of sources) assert.ok(existsSync(resolve(installed, dirname(map), source)), `${map} points at ${source}, not in the package`);
    }
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
    assert.equal(manifest.dependencies?.pg, undefined, "pg is a hard dependency");
    assert.deepEqual(manifest.peerDependenciesMeta?.pg, { optional: true });
    assert.ok(!existsSync(join(scratch, "node_modules/pg")), "npm installed the optional peer pg");
    assert.deepEqual(manifest.peerDependenciesMeta?.react, { optional: true });
    assert.equal(manifest.peerDependencies?.react, "^18.0.0 || ^19.0.0");
  });

  it("test_package_consumerTypeChecksWithoutSkipLibCheckNorTypesPg", async function () {
    write(join(scratch, "browser/consumer.ts"), BROWSER_CONSUMER);
    write(join(scratch, "browser/tsconfig.json"), tsconfig({ lib: ["ES2022", "DOM"], types: [], noEmit: true }, ["consumer.ts"]));
    write(join(scratch, "node/consumer.ts"), NODE_CONSUMER);
    write(join(scratch, "node/tsconfig.json"), tsconfig({ lib: ["ES2022", "DOM"], types: ["node"], outDir: "../out" }, ["consumer.ts"]));
    assert.ok(!existsSync(join(scratch, "node_modules/@types/pg")));
    await Promise.all(["browser", "node"].map((consumer) => run(process.execPath, [TSC, "-p", `${consumer}/tsconfig.json`], { cwd: scratch })));
  });

  it("test_package_portableEntriesBundleForBrowserAndWorkerWithoutNodeBuiltins", async function () {
    const entries = PORTABLE_ENTRIES.map((entry) => {
      const file = join(scratch, "bundle", `${entry.replaceAll("/", "-")}.js`);
      write(file, `export * from "${entry}";\n`);
      return file;
    });
    for (const platform of ["browser", "neutral"] as const) {
      const result = await build({
        entryPoints: entries,
        absWorkingDir: scratch,
        outdir: join(scratch, "bundle-out", platform),
        bundle: true,
        format: "esm",
        platform,
        // The worker build resolves as Cloudflare's wrangler does (neutral sets no conditions or main fields).
        ...(platform === "neutral" ? { conditions: ["workerd", "worker", "browser"], mainFields: ["module", "main"] } : {}),
        metafile: true,
        logLevel: "silent",
      });
      const imported = Object.values(result.metafile.inputs).flatMap(({ imports }) => imports.map(({ path }) => path));
      assert.deepEqual(
        imported.filter((path) => path.startsWith("node:")),
        [],
        `${platform} bundle imports Node built-ins`,
      );
      const external = Object.values(result.metafile.outputs).flatMap(({ imports }) => imports.map(({ path }) => path));
      assert.deepEqual(external, [], `${platform} bundle leaves imports unresolved`);
      const bundled = (entry: string) => Object.keys(Object.values(result.metafile.outputs).find((output) => output.entryPoint?.endsWith(`bundle/${entry}.js`))!.inputs);
      assert.ok(bundled("tollgate-react").some((path) => path.startsWith("node_modules/react/")), `${platform}: the hook's bundle has no React`);
      assert.deepEqual(bundled("tollgate-client").filter((path) => path.includes("react")), [], `${platform} client bundle pulls in React`);
    }

    // The worker bundle runs with no `process` (so no require and no native secp256k1): vouchers are
    // recovered through @noble/curves.
    write(
      join(scratch, "worker-run.mjs"),
      `import { privateKeyToAccount } from "viem/accounts";
const account = privateKeyToAccount("0x${"11".repeat(32)}");
const voucher = { chainId: 8453, escrow: "0x${"22".repeat(20)}", channelId: "0x${"33".repeat(32)}", cumulativeAmount: 10000n };
globalThis.process = undefined;
const { getSecp256k1Backend, recoverVoucherSigner, signVoucher } = await import("./bundle-out/neutral/tollgate.js");
const signer = recoverVoucherSigner({ ...voucher, signature: await signVoucher({ ...voucher, account }) });
console.log(JSON.stringify({ backend: getSecp256k1Backend(), recovered: signer === account.address }));
`,
    );
    assert.deepEqual(JSON.parse(await run(process.execPath, ["worker-run.mjs"], { cwd: scratch })), { backend: "js", recovered: true });

    // The check bites: the Node adapter's entry does not bundle for a browser.
    const nodeEntry = join(scratch, "bundle", "server-node.js");
    write(nodeEntry, `export * from "tollgate/server/node";\n`);
    await assert.rejects(
      build({ entryPoints: [nodeEntry], absWorkingDir: scratch, bundle: true, write: false, format: "esm", platform: "browser", logLevel: "silent" }),
      (error: BuildFailure) => error.errors.some(({ text }) => text.includes("node:")),
    );
  });

  describe("on a local chain", function () {
    let chain: LocalChain;
    before(async function () {
      chain = await startLocalChain();
      await chain.mint(chain.account(BUYER).address, 5_000_000n);
    });
    after(async function () {
      await chain?.stop();
    });

    it("test_package_installedPackagePaysForOneRequest", async function () {
      assert.ok(existsSync(join(scratch, "out/consumer.js")), "the consumer was not compiled: see the type-check test");
      const buyerBefore = await chain.balanceOf(chain.account(BUYER).address);
      const output = await run(process.execPath, ["out/consumer.js"], {
        cwd: scratch,
        env: cleanEnv({
          RPC_URL: chain.rpcUrl,
          ESCROW: chain.escrow,
          TOKEN: chain.token,
          MNEMONIC: TEST_MNEMONIC,
          SELLER: String(SELLER),
          BUYER: String(BUYER),
        }),
      });
      const result = JSON.parse(output.trim().split("\n").at(-1)!);
      assert.equal(result.status, 200, output);
      assert.deepEqual(result.body, { paid: true });
      assert.equal(result.spent, "10000");
      assert.deepEqual(result.charged, ["10000"]);
      // The deposit left the buyer's wallet for the escrow.
      assert.equal(await chain.balanceOf(chain.account(BUYER).address), buyerBefore - BigInt(result.deposit));
      assert.equal(result.postgres.reason, "unavailable");
      assert.match(result.postgres.message, /npm install pg/);
    });
  });
});
