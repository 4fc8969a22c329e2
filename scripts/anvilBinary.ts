// Where the project's anvil (a devDependency) and its watcher live, for the local chain and the gas harness.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ANVIL_BINARY = join(dirname(createRequire(import.meta.url).resolve("@foundry-rs/anvil-linux-amd64/package.json")), "bin/anvil");

/** Stops anvil when this process goes, even by SIGKILL (see gas/anvilWithParent.mjs). */
export const ANVIL_WITH_PARENT = fileURLToPath(new URL("./gas/anvilWithParent.mjs", import.meta.url));
