// Exit codes and the mapping from every error the CLI can meet to one of them.
import { BaseError, HttpRequestError, SocketClosedError, TimeoutError, WebSocketRequestError } from "viem";
import { ContractRevertedError } from "../errors/ContractRevertedError.js";
import { DeploymentNotFoundError } from "../errors/DeploymentNotFoundError.js";
import { InvalidValueError } from "../errors/InvalidValueError.js";
import { RpcError } from "../errors/RpcError.js";
import { StoreError } from "../errors/StoreError.js";
import { TransactionOutcomeUnknownError } from "../errors/TransactionOutcomeUnknownError.js";
import { revertAbi } from "../transactions/revertAbi.js";
import { isoTime } from "./output.js";

export const EXIT = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  reverted: 3,
  unreachable: 4,
  notFound: 5,
  outcomeUnknown: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What `tollgate --help` says about exit codes; docs/cli.md repeats it. */
export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  unexpected error (a bug, or a failure the CLI does not classify)
  2  usage error: unknown command or flag, missing or malformed value (address, amount, channel id…)
  3  the chain rejected the call: the escrow or token reverted (the decoded error name is printed)
  4  the RPC node (or the --db database) cannot be reached
  5  not found: no such channel, no deployment for the chain, no contract at --escrow, no --db file or database
  6  a transaction was sent but no receipt arrived in time: its outcome is unknown (hash printed)`;

/** An expected failure with its exit code: printed as one line, never with a stack trace. */
export class CliError extends Error {
  override name = "CliError";
  readonly exitCode: ExitCode;
  readonly details: Record<string, unknown>;

  constructor(exitCode: ExitCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
    this.details = details;
  }
}

export const usageError = (message: string, details?: Record<string, unknown>) => new CliError(EXIT.usage, message, details);
export const notFound = (message: string, details?: Record<string, unknown>) => new CliError(EXIT.notFound, message, details);

/** Whether anything in the error's cause chain says the node could not be reached (as opposed to answering with an error). */
export function isUnreachable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause !== undefined && cause !== null && depth < 20; depth++) {
    if (cause instanceof RpcError) return true;
    if (cause instanceof BaseError) {
      const found = cause.walk(
        (inner) =>
          inner instanceof HttpRequestError ||
          inner instanceof TimeoutError ||
          inner instanceof WebSocketRequestError ||
          inner instanceof SocketClosedError,
      );
      if (found !== null) return true;
    }
    const code = (cause as { code?: unknown }).code;
    if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "ECONNRESET" || code === "ETIMEDOUT" || code === "EHOSTUNREACH") {
      return true;
    }
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

/** Revert arguments that are unix times in seconds: a person reads them as dates. */
const TIME_ARGUMENTS: ReadonlySet<string> = new Set(["readyAt", "timestamp", "closeRequestedAt", "deadline", "validAfter", "validBefore"]);

/** `Name(arg: value, …)` for a decoded revert, with the argument names from the ABI and times as ISO 8601 dates (UTC). */
export function describeRevert(error: ContractRevertedError): string {
  if (error.errorName === undefined) return error.data === undefined || error.data === "0x" ? "reverted without a reason" : `unknown error ${error.data}`;
  const item = revertAbi.find((entry) => entry.type === "error" && entry.name === error.errorName) as
    | { inputs: readonly { name?: string }[] }
    | undefined;
  const args = (error.args ?? []).map((value, index) => {
    const name = item?.inputs[index]?.name;
    const text =
      typeof value === "bigint"
        ? name !== undefined && TIME_ARGUMENTS.has(name)
          ? isoTime(value)
          : value.toString()
        : typeof value === "string"
          ? value
          : JSON.stringify(value);
    return name ? `${name}: ${text}` : text;
  });
  return `${error.errorName}(${args.join(", ")})`;
}

export type Failure = {
  exitCode: ExitCode;
  message: string;
  /** For --json: a stable kind and the error's particulars. */
  json: Record<string, unknown>;
  /** Only for unexpected errors. */
  stack?: string | undefined;
};

const KINDS: Record<ExitCode, string> = {
  0: "ok",
  1: "unexpected",
  2: "usage",
  3: "reverted",
  4: "unreachable",
  5: "not-found",
  6: "outcome-unknown",
};

function failure(exitCode: ExitCode, message: string, details: Record<string, unknown> = {}, stack?: string): Failure {
  return { exitCode, message, json: { kind: KINDS[exitCode], exitCode, message, ...details }, stack };
}

/** Classifies any thrown value. */
export function classify(error: unknown): Failure {
  if (error instanceof CliError) return failure(error.exitCode, error.message, error.details);
  if ((error as { code?: unknown })?.code?.toString().startsWith("ERR_PARSE_ARGS")) {
    return failure(EXIT.usage, (error as Error).message);
  }
  if (error instanceof InvalidValueError) return failure(EXIT.usage, error.message, { valueKind: error.kind });
  if (error instanceof ContractRevertedError) {
    const reason = describeRevert(error);
    const details = {
      errorName: error.errorName ?? null,
      args: error.args ?? null,
      ...(error.hash === undefined ? {} : { transactionHash: error.hash }),
    };
    const where = error.hash === undefined ? "the call would revert (nothing was sent)" : `transaction ${error.hash} reverted`;
    // A channel the escrow does not know is "not found" whichever way it was discovered.
    const exitCode = error.errorName === "ChannelNotFound" ? EXIT.notFound : EXIT.reverted;
    return failure(exitCode, `${where}: ${reason}`, details);
  }
  if (error instanceof DeploymentNotFoundError) {
    return failure(EXIT.notFound, `${error.message}; pass --escrow <address>`, { chainId: error.chainId });
  }
  if (error instanceof TransactionOutcomeUnknownError) {
    return failure(EXIT.outcomeUnknown, `${error.message}; look it up later before retrying`, { transactionHash: error.hash });
  }
  if (error instanceof StoreError) return failure(EXIT.unexpected, error.message, { reason: error.reason });
  if (isUnreachable(error)) {
    const detail = error instanceof BaseError ? error.shortMessage : (error as Error)?.message;
    return failure(EXIT.unreachable, `the RPC node cannot be reached (${firstLine(detail ?? String(error))})`);
  }
  const message = error instanceof BaseError ? error.shortMessage : error instanceof Error ? error.message : String(error);
  return failure(EXIT.unexpected, firstLine(message), {}, error instanceof Error ? error.stack : undefined);
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}
