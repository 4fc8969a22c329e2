// A child process for the cross-process and crash tests, started by storeProcesses.ts as
// `node --import tsx storeWorker.ts '<job json>'`. Mocha also loads every file under test/, so the
// work only starts when this file is the process's entry point.
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import type { Hex } from "viem";
import { openSessionStore, type StoreLocation } from "../../../scripts/openSessionStore.js";
import { incrementSpent, sleep } from "./storeFixtures.js";

export type WorkerJob = {
  store: StoreLocation;
  channelId: Hex;
  /** Prefix of the charge keys this worker writes. */
  label: string;
  /** `count`: wait for "go" on stdin, run `count` increments, print "done". `forever`: increment until killed. */
  mode: "count" | "forever";
  count?: number;
};

async function main(job: WorkerJob): Promise<void> {
  const store = await openSessionStore({ location: job.store, maxConnections: 2 });
  // Shows the parent that ordinary warnings still print while node:sqlite's is filtered.
  process.emitWarning("tollgate-worker-probe");
  if (job.mode === "forever") {
    for (let i = 0; ; i++) {
      await incrementSpent(store, job.channelId, `${job.label}-${i}`);
      if (i === 0) process.stdout.write("committed\n");
    }
  }
  process.stdout.write("ready\n");
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) if (line === "go") break;
  for (let i = 0; i < (job.count ?? 0); i++) {
    // A pause inside the transaction keeps it open across event-loop turns; one between transactions
    // gives the other process a fair chance at the lock, as spaced-out requests would.
    await incrementSpent(store, job.channelId, `${job.label}-${i}`, { pause: () => new Promise((resolve) => setImmediate(resolve)) });
    if (Math.random() < 0.5) await sleep(1);
  }
  await store.close();
  process.stdout.write("done\n");
  lines.close();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(JSON.parse(process.argv[2] ?? "{}") as WorkerJob).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
