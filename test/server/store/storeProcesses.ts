import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { WorkerJob } from "./storeWorker.js";

const WORKER = fileURLToPath(new URL("./storeWorker.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export type Worker = {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once the worker printed `line`; rejects if it exits first. */
  waitFor(line: string, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

/** Starts storeWorker.ts under the same Node, with tsx (Hardhat's TypeScript loader) for the sources. */
export function startWorker(job: WorkerJob): Worker {
  const child = spawn(process.execPath, ["--import", "tsx", WORKER, JSON.stringify(job)], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(line, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (out.split("\n").includes(line)) {
            cleanup();
            resolve();
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`worker did not print "${line}" within ${timeoutMs} ms; stderr:\n${err}`));
        }, timeoutMs);
        const onExit = () => {
          // Let buffered output arrive before judging.
          setImmediate(() => {
            if (out.split("\n").includes(line)) return;
            cleanup();
            reject(new Error(`worker exited before printing "${line}"; stderr:\n${err}`));
          });
        };
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off("exit", onExit);
        };
        listeners.add(check);
        child.on("exit", onExit);
        check();
      });
    },
  };
}

/** Kills a worker the test started, by its own handle, if it is still running. */
export async function stopWorker(worker: Worker): Promise<void> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill("SIGKILL");
  await worker.exited;
}
