// npm run bench:gas — gas per escrow operation beside the targets; writes bench/results/gas.json.
// BENCH_GAS_HARNESS=anvil npm run bench:gas — the same on anvil; writes bench/results/gas-anvil.json.
// (An environment variable because `hardhat run` rejects any argument after the script.)
import { mkdir, writeFile } from "node:fs/promises";
import hre, { network } from "hardhat";
import type { Abi, Hex } from "viem";
import { measureEscrowGasOnAnvil } from "./gas/anvilHarness.js";
import { GAS_TARGETS, type GasReport } from "./gas/measureEscrowGas.js";
import { measureEscrowGas } from "../test/helpers/gasHarness.js";

const HARNESSES = ["hardhat", "anvil"] as const;
const harness = process.env.BENCH_GAS_HARNESS || "hardhat";
if (!HARNESSES.includes(harness as never)) throw new Error(`BENCH_GAS_HARNESS must be one of ${HARNESSES.join(", ")}, not "${harness}"`);

const report = harness === "anvil" ? await measureOnAnvil() : await measureOnHardhat();

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

const resultsFile = harness === "anvil" ? "bench/results/gas-anvil.json" : "bench/results/gas.json";
await mkdir("bench/results", { recursive: true });
await writeFile(
  resultsFile,
  JSON.stringify({ measuredAt: new Date().toISOString(), unit: "gasUsed per transaction", rows }, null, 2) + "\n",
);
console.log(`wrote ${resultsFile}`);

// The snapshot guards the Hardhat figures, which the test suite measures again.
if (process.env.UPDATE_GAS_SNAPSHOT && harness === "hardhat") {
  const snapshot = Object.fromEntries(Object.entries(report).map(([operation, gasUsed]) => [operation, Number(gasUsed)]));
  await writeFile("test/gas-snapshot.json", JSON.stringify(snapshot, null, 2) + "\n");
  console.log("wrote test/gas-snapshot.json");
}

async function measureOnHardhat(): Promise<GasReport> {
  const { viem, networkHelpers } = await network.create();
  return measureEscrowGas(viem, networkHelpers);
}

async function measureOnAnvil(): Promise<GasReport> {
  const escrowArtifact = (await hre.artifacts.readArtifact("TollgateEscrow")) as { abi: Abi; bytecode: Hex };
  return measureEscrowGasOnAnvil({ escrowArtifact });
}
