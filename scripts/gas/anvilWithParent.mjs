// Runs anvil with the given arguments and stops it once the process that started this one is gone, however
// it went (SIGKILL included). anvil is a native binary and cannot preload onParentExit.mjs the way the local
// chain's `hardhat node` does, so this small Node process watches on its behalf.
import { spawn } from "node:child_process";
import { onParentExit } from "../onParentExit.mjs";

const [binary, ...args] = process.argv.slice(2);
if (!binary) throw new Error("usage: anvilWithParent.mjs <anvil binary> [anvil arguments]");

const anvil = spawn(binary, args, { stdio: ["ignore", "ignore", "inherit"] });
const stop = () => anvil.kill("SIGTERM");
onParentExit(stop);
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
anvil.on("exit", (code) => process.exit(code ?? 0));
