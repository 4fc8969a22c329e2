// bench/results/e2e.json: the rows, and what they were measured on.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";

export type WriteResultsParameters = {
  /** Under bench/results/; defaults to e2e.json. */
  file?: string;
  description: string;
  setup: Record<string, unknown>;
  startedAt: number;
  rows: Record<string, unknown>[];
};

export async function writeResults({ file = "e2e.json", description, setup, startedAt, rows }: WriteResultsParameters): Promise<{ totalSeconds: number }> {
  const cpus = os.cpus();
  const totalSeconds = Number(((Date.now() - startedAt) / 1000).toFixed(1));
  const result = {
    measuredAt: new Date().toISOString(),
    command: "npm run bench:e2e",
    description,
    machine: {
      cpu: cpus[0]?.model.trim() ?? "unknown",
      cores: cpus.length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      loadAverage: os.loadavg().map((load) => Number(load.toFixed(2))),
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      node: process.version,
    },
    libraries: Object.fromEntries(await Promise.all(["viem", "hardhat", "mppx", "@x402/fetch", "@x402/evm"].map(async (name) => [name, await packageVersion(name)]))),
    setup,
    totalSeconds,
    rows,
  };
  await mkdir(new URL("../results/", import.meta.url), { recursive: true });
  await writeFile(new URL(`../results/${file}`, import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  return { totalSeconds };
}

async function packageVersion(name: string): Promise<string> {
  return (JSON.parse(await readFile(new URL(`../../node_modules/${name}/package.json`, import.meta.url), "utf8")) as { version: string }).version;
}
