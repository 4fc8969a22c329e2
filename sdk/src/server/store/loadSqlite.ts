import { StoreError } from "../../errors/StoreError.js";

let sqliteModule: typeof import("node:sqlite") | undefined;

/**
 * Loads `node:sqlite` on first use, so that importing the SDK works on runtimes without it. Node 22
 * prints an ExperimentalWarning when the module loads; choosing this store is not opting into an
 * experiment, so exactly that warning is dropped while the module loads. Any other warning, then or
 * later, goes through untouched.
 */
export function loadSqlite(): typeof import("node:sqlite") {
  if (sqliteModule !== undefined) return sqliteModule;
  const proc = globalThis.process;
  if (typeof proc?.getBuiltinModule !== "function") {
    throw new StoreError("unavailable", "The SQLite session store needs Node.js 22.13 or later (node:sqlite)");
  }
  const emitWarning = proc.emitWarning;
  proc.emitWarning = function filterSqliteWarning(this: unknown, warning: string | Error, ...rest: unknown[]) {
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: unknown } | undefined)?.type;
    const message = typeof warning === "string" ? warning : warning?.message;
    const isSqliteExperimental =
      (type === "ExperimentalWarning" || (warning instanceof Error && warning.name === "ExperimentalWarning")) &&
      typeof message === "string" &&
      message.startsWith("SQLite is an experimental feature");
    if (isSqliteExperimental) return;
    return (emitWarning as (...args: unknown[]) => void).call(proc, warning, ...rest);
  } as typeof proc.emitWarning;
  try {
    sqliteModule = proc.getBuiltinModule("node:sqlite") as typeof import("node:sqlite") | undefined;
  } catch (error) {
    throw new StoreError("unavailable", "node:sqlite failed to load", { cause: error });
  } finally {
    proc.emitWarning = emitWarning;
  }
  if (sqliteModule === undefined) {
    throw new StoreError("unavailable", "The SQLite session store needs Node.js 22.13 or later (node:sqlite)");
  }
  return sqliteModule;
}
