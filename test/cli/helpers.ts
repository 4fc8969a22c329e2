// Runs the CLI as a user does: a child process, `tsx sdk/src/cli/main.ts …`, under this Node (22).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import hre from "hardhat";
import type { Hex, LocalAccount } from "viem";

const root = fileURLToPath(new URL("../../", import.meta.url));
const TSX = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));
const MAIN = "sdk/src/cli/main.ts";

export type CliResult = { code: number | null; stdout: string; stderr: string };

/** Runs `tollgate <args>` with only PATH and HOME from this process's environment, plus `env`. */
export function cli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSX, MAIN, ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the CLI with --json, expects `code`, and returns the parsed document. */
export async function cliJson<T = Record<string, unknown>>(args: readonly string[], env: Record<string, string>, code = 0): Promise<T> {
  const result = await cli([...args, "--json"], env);
  if (result.code !== code) throw new Error(`tollgate ${args.join(" ")} exited ${result.code}, expected ${code}\n${result.stderr}\n${result.stdout}`);
  return JSON.parse(result.stdout) as T;
}

/** The private key of a test account derived from the well-known mnemonic. */
export function privateKeyOf(account: LocalAccount): Hex {
  const key = (account as LocalAccount & { getHdKey(): { privateKey: Uint8Array | null } }).getHdKey().privateKey!;
  return `0x${Buffer.from(key).toString("hex")}`;
}

/**
 * The CLI deploys and finds the SDK's bundled bytecode, while `hardhat test --coverage` compiles
 * instrumented contracts into the artifacts that startLocalChain deploys: the addresses differ. The CLI
 * runs its chain in child processes, which add nothing to the coverage report anyway, so its tests belong
 * to the plain run of the suite. Call from a `before` hook.
 */
export function skipUnderCoverage(context: Mocha.Context): void {
  if (hre.globalOptions.coverage) context.skip();
}
