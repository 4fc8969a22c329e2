// npm run bench:gas — gas per escrow operation beside the targets; writes bench/results/gas.json.
import { mkdir, writeFile } from "node:fs/promises";
import { network } from "hardhat";
import { GAS_TARGETS, measureEscrowGas } from "../test/helpers/gasHarness.js";

const { viem, networkHelpers } = await network.create();
const report = await measureEscrowGas(viem, networkHelpers);

const rows = Object.entries(report).map(([operation, gasUsed]) => {
  const target = GAS_TARGETS[operation];
  return {
    operation,
    gasUsed: Number(gasUsed),
    target: target ?? null,
    meetsTarget: target === undefined ? null : Number(gasUsed) <= target,
  };
});
console.table(rows);

await mkdir("bench/results", { recursive: true });
await writeFile(
  "bench/results/gas.json",
  JSON.stringify({ measuredAt: new Date().toISOString(), unit: "gasUsed per transaction", rows }, null, 2) + "\n",
);
console.log("wrote bench/results/gas.json");

if (process.env.UPDATE_GAS_SNAPSHOT) {
  const snapshot = Object.fromEntries(Object.entries(report).map(([operation, gasUsed]) => [operation, Number(gasUsed)]));
  await writeFile("test/gas-snapshot.json", JSON.stringify(snapshot, null, 2) + "\n");
  console.log("wrote test/gas-snapshot.json");
}
