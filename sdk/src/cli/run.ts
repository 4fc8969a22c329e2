// The CLI without the process: parses argv, runs one command, prints, and returns the exit code.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Command } from "./command.js";
import { channelsCommand } from "./commands/channels.js";
import { closeCommand } from "./commands/close.js";
import { demoCommand } from "./commands/demo.js";
import { deployCommand } from "./commands/deploy.js";
import { requestCloseCommand, withdrawCommand } from "./commands/forcedClose.js";
import { mintCommand } from "./commands/mint.js";
import { openCommand } from "./commands/open.js";
import { topUpCommand } from "./commands/topUp.js";
import { usageCommand } from "./commands/usage.js";
import { type CommandContext, GLOBAL_OPTIONS, rejectNegativeValues } from "./context.js";
import { classify, EXIT, EXIT_CODES_HELP, usageError } from "./errors.js";
import { type Io, toJson } from "./output.js";

export const COMMANDS: readonly Command[] = [
  deployCommand,
  channelsCommand,
  openCommand,
  topUpCommand,
  closeCommand,
  requestCloseCommand,
  withdrawCommand,
  usageCommand,
  mintCommand,
  demoCommand,
];

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return `tollgate ${version()}: pay-as-you-go HTTP APIs paid through an EVM payment-channel escrow

Usage: tollgate <command> [options]
       tollgate <command> --help

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join("\n")}

Options of every command:
  --json                 print one JSON document on stdout (amounts as decimal strings in base units);
                         on failure, {"error": {...}} with the exit code and, for reverts, the error name
  -h, --help             help for the command

Environment:
  TOLLGATE_RPC_URL       default for --rpc-url
  TOLLGATE_PRIVATE_KEY   the signing key of open, top-up, close, request-close, withdraw and deploy
                         (never a flag, never printed)
  TOLLGATE_DEBUG=1       print the stack trace of unexpected errors

Amounts are whole tokens in the token's decimals (--amount 1.50), converted exactly; more fractional
digits than the token has is an error, never a rounding. Progress goes to stderr, results to stdout.

${EXIT_CODES_HELP}
`;
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "(unknown version)";
  }
}

export async function run(argv: readonly string[], io: Io): Promise<number> {
  const json = argv.includes("--json");
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === "--help" || name === "-h") {
      io.stdout(mainHelp());
      return name === undefined ? EXIT.usage : EXIT.ok;
    }
    if (name === "--version" || name === "-V") {
      io.stdout(`${version()}\n`);
      return EXIT.ok;
    }
    if (name === "help") {
      const topic = COMMANDS.find((command) => command.name === rest[0]);
      io.stdout(topic === undefined ? mainHelp() : `${topic.help}\n`);
      return EXIT.ok;
    }
    const command = COMMANDS.find((candidate) => candidate.name === name);
    if (command === undefined) throw usageError(`unknown command ${JSON.stringify(name)}; run tollgate --help for the list`);
    const options = { ...GLOBAL_OPTIONS, ...command.options };
    rejectNegativeValues(rest, options);
    const { values, positionals } = parseArgs({
      args: [...rest],
      options,
      allowPositionals: true,
      strict: true,
    });
    if (values.help === true) {
      io.stdout(`${command.help}\n`);
      return EXIT.ok;
    }
    const context: CommandContext = {
      values: values as CommandContext["values"],
      positionals,
      io,
      json,
      log: (line) => io.stderr(`${line}\n`),
    };
    const result = await command.run(context);
    if (result.exitCode !== undefined) return result.exitCode;
    io.stdout(`${json ? toJson(result.json) : result.human}\n`);
    return EXIT.ok;
  } catch (error) {
    const failure = classify(error);
    const hint = failure.exitCode === EXIT.unexpected && !io.env.TOLLGATE_DEBUG ? " (TOLLGATE_DEBUG=1 shows the stack trace)" : "";
    io.stderr(`tollgate: ${failure.message}${hint}\n`);
    if (failure.exitCode === EXIT.unexpected && io.env.TOLLGATE_DEBUG && failure.stack) io.stderr(`${failure.stack}\n`);
    if (json) io.stdout(`${toJson({ error: failure.json })}\n`);
    return failure.exitCode;
  }
}
