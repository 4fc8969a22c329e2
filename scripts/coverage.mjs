// npm run coverage: the contract tests under Hardhat's coverage, then a check that every production
// contract (not the mocks) reaches the thresholds. EDR reports lines and statements, not branches;
// statements are the finer measure (each arm of a branch is a statement), so both are checked.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";

const THRESHOLD = 95;
const CONTRACT_TESTS = [
  ...readdirSync("test/escrow").filter((file) => file.endsWith(".test.ts")).map((file) => `test/escrow/${file}`),
  ...readdirSync("test/solidity").filter((file) => file.endsWith(".t.sol")).map((file) => `test/solidity/${file}`),
];

const run = spawnSync("npx", ["hardhat", "test", "--coverage", ...CONTRACT_TESTS], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
process.stdout.write(run.stdout);
process.stderr.write(run.stderr);
if (run.status !== 0) process.exit(run.status ?? 1);

// Rows of Hardhat's coverage table: ║ path │ line % │ statement % │ uncovered lines ║
const plain = run.stdout.replace(/\x1b\[[0-9;]*m/g, "");
const rows = [...plain.matchAll(/^║\s*(contracts\/\S+\.sol)\s*│\s*([\d.]+)\s*│\s*([\d.]+)\s*│/gm)].map(([, file, lines, statements]) => ({
  file,
  lines: Number(lines),
  statements: Number(statements),
}));
const production = rows.filter(({ file }) => !file.startsWith("contracts/mocks/"));
if (production.length === 0) {
  console.error("coverage: no coverage rows for contracts/ in Hardhat's report");
  process.exit(1);
}
const short = production.filter(({ lines, statements }) => lines < THRESHOLD || statements < THRESHOLD);
console.log(`\ncoverage check (≥ ${THRESHOLD}% of lines and statements):`);
for (const { file, lines, statements } of production) console.log(`  ${file}: lines ${lines}%, statements ${statements}%`);
if (short.length > 0) {
  console.error(`coverage below ${THRESHOLD}%: ${short.map(({ file }) => file).join(", ")}`);
  process.exit(1);
}
