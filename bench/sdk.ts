// npm run bench:sdk — vouchers verified per second on one core by the SDK's fast path (libsecp256k1),
// its pure-JS fallback (@noble/curves) and viem's recoverTypedDataAddress; writes bench/results/sdk.json.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import { type Address, type Hex, keccak256, recoverTypedDataAddress, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { getVoucherTypedData, type Secp256k1Backend, signVoucher, verifyVoucher } from "../sdk/src/index.js";

const VOUCHERS = 1_000;
const SIGNERS = 10;
const WARM_UP = 200;
const SECONDS_PER_PATH = 3;

type SignedVoucher = { chainId: number; escrow: Address; channelId: Hex; cumulativeAmount: bigint; signature: Hex; signer: Address };

// Distinct vouchers (channel ids and amounts vary) on one escrow, as a server sees them.
const escrow: Address = "0x5B91cea2d4699e53c88bAc8fC786103AA26F4B4B";
const accounts = Array.from({ length: SIGNERS }, (_, index) => privateKeyToAccount(keccak256(toHex(`bench signer ${index}`))));
const vouchers: SignedVoucher[] = [];
for (let index = 0; index < VOUCHERS; index++) {
  const account = accounts[index % SIGNERS]!;
  const voucher = { chainId: 8453, escrow, channelId: keccak256(toHex(`bench channel ${index}`)), cumulativeAmount: 1_000n * BigInt(index + 1) };
  vouchers.push({ ...voucher, signature: await signVoucher({ account, ...voucher }), signer: account.address });
}

type Verify = (voucher: SignedVoucher) => Promise<boolean>;

const sdk =
  (secp256k1: Secp256k1Backend): Verify =>
  (voucher) =>
    verifyVoucher({ ...voucher, secp256k1 });
const viem: Verify = async ({ signature, signer, ...voucher }) =>
  (await recoverTypedDataAddress({ ...getVoucherTypedData(voucher), signature })) === signer;

/** Verifies vouchers round-robin for a fixed time; every one must verify, or the rate means nothing. */
async function measure(verify: Verify): Promise<{ verifications: number; seconds: number; perSecond: number }> {
  for (let index = 0; index < WARM_UP; index++) await verify(vouchers[index % VOUCHERS]!);
  let verifications = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(SECONDS_PER_PATH * 1e9);
  let now = started;
  while (now < deadline) {
    // Check the clock every 100 verifications so that reading it costs nothing measurable.
    for (let index = 0; index < 100; index++, verifications++) {
      if (!(await verify(vouchers[verifications % VOUCHERS]!))) throw new Error(`voucher ${verifications % VOUCHERS} did not verify`);
    }
    now = process.hrtime.bigint();
  }
  const seconds = Number(now - started) / 1e9;
  return { verifications, seconds: Number(seconds.toFixed(3)), perSecond: Math.round(verifications / seconds) };
}

const paths = [
  { path: "SDK verifyVoucher, native (libsecp256k1)", verify: sdk("native") },
  { path: "SDK verifyVoucher, JS fallback (@noble/curves)", verify: sdk("js") },
  { path: "viem recoverTypedDataAddress", verify: viem },
];
const rows = [];
for (const { path, verify } of paths) rows.push({ path, ...(await measure(verify)) });
console.table(rows);

async function versionOf(name: string): Promise<string> {
  const manifest = new URL(`../node_modules/${name}/package.json`, import.meta.url);
  return (JSON.parse(await readFile(manifest, "utf8")) as { version: string }).version;
}

const result = {
  measuredAt: new Date().toISOString(),
  unit: "voucher verifications per second, one core (one Node.js thread)",
  machine: {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverage: os.loadavg().map((load) => Number(load.toFixed(2))),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
  },
  libraries: { viem: await versionOf("viem"), secp256k1: await versionOf("secp256k1") },
  setup: { distinctVouchers: VOUCHERS, signers: SIGNERS, warmUp: WARM_UP, secondsPerPath: SECONDS_PER_PATH },
  rows,
};
await mkdir(new URL("results/", import.meta.url), { recursive: true });
await writeFile(new URL("results/sdk.json", import.meta.url), JSON.stringify(result, null, 2) + "\n");
console.log("wrote bench/results/sdk.json");
