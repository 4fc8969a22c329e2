import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "../command.js";
import { type CommandContext, noPositionals } from "../context.js";
import { usageError } from "../errors.js";

export const demoCommand: Command = {
  name: "demo",
  summary: "run the repository's paid photo gallery demo (only inside a clone of the tollgate repository)",
  help: `Usage: tollgate demo [--serve] [--picsum]

Runs \`npm run demo\` of the tollgate repository: a local chain with the escrow and a mock USDC, a paid
photo gallery ($0.01 per photo) behind the payment gate, and a client buying five photos through a
channel. Only works inside a clone of the tollgate repository (it runs the repository's scripts/demo.ts
with the repository's dev dependencies); the published package has no demo.

Options:
  --serve                keep the chain and the gallery running (npm run demo -- --serve) and print one JSON
                         line with the gallery's URLs, the RPC URL, the escrow, the token and the seller's
                         database; Ctrl-C stops it
  --picsum               hand out Picsum photo URLs instead of generated images (needs the internet)

The seller's SQLite database lives in a temporary directory, printed at start and removed on exit. The
demo's chain never outlives it: stopped by a signal, or its parent killed (even with SIGKILL), the demo
stops the chain, and the chain exits by itself when the demo is gone.

The exit status is the demo's (128 + the signal's number when stopped by SIGINT or SIGTERM).`,
  options: { serve: { type: "boolean" }, picsum: { type: "boolean" } },
  async run(context) {
    noPositionals(context);
    if (context.json) throw usageError("demo has no --json output (with --serve it prints one JSON line itself)");
    const root = findRepository(context);
    const args = ["run", "demo", "--silent"];
    const extra = [...(context.values.serve === true ? ["--serve"] : []), ...(context.values.picsum === true ? ["--picsum"] : [])];
    if (extra.length > 0) args.push("--", ...extra);
    const exitCode = await runNpm(root, args, context);
    return { json: null, human: "", exitCode };
  },
};

/** The repository root: the first ancestor of this file or of the working directory holding the workspace and scripts/demo.ts. */
function findRepository(context: CommandContext): string {
  const starts = [dirname(fileURLToPath(import.meta.url)), context.io.cwd];
  for (const start of starts) {
    for (let directory = start; ; directory = dirname(directory)) {
      if (isRepository(directory)) return directory;
      if (dirname(directory) === directory) break;
    }
  }
  throw usageError("tollgate demo only works inside a clone of the tollgate repository (scripts/demo.ts not found)");
}

function isRepository(directory: string): boolean {
  if (!existsSync(join(directory, "scripts", "demo.ts"))) return false;
  try {
    const manifest = JSON.parse(readFileSync(join(directory, "package.json"), "utf8")) as { scripts?: Record<string, string> };
    return typeof manifest.scripts?.demo === "string";
  } catch {
    return false;
  }
}

/**
 * Runs npm in its own process group and forwards SIGINT/SIGTERM to the whole group, so the demo (under
 * npm, sh and tsx) receives them and stops its chain, whether the CLI is interrupted from a terminal or
 * killed by a supervisor. A signal the CLI cannot catch (SIGKILL) is covered by TOLLGATE_PARENT_PID: the
 * demo watches this process and stops when it is gone (scripts/onParentExit.mjs).
 */
function runNpm(root: string, args: string[], context: CommandContext): Promise<number> {
  const npmCli = context.io.env.npm_execpath;
  const [command, commandArgs] =
    npmCli !== undefined && npmCli.endsWith(".js") ? [process.execPath, [npmCli, ...args]] : [process.platform === "win32" ? "npm.cmd" : "npm", args];
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
      detached: true,
      env: { ...context.io.env, TOLLGATE_PARENT_PID: String(process.pid) },
    });
    const forward = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
    };
    const onInt = () => forward("SIGINT");
    const onTerm = () => forward("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    child.once("error", (error) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      resolve(code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)));
    });
  });
}
