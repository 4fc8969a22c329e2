#!/usr/bin/env node
// The `tollgate` command. Everything but the process lives in run.ts.
import { run } from "./run.js";

const code = await run(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
});
process.exitCode = code;
// Output is written (pipes and files are synchronous on Linux); an idle keep-alive socket or database
// pool must not hold the exit back.
setTimeout(() => process.exit(code), 1_000).unref();
