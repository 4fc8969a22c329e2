// Fails when an escrow operation costs more gas than the committed snapshot. After an intended change,
// refresh it with `npm run gas:snapshot` and commit test/gas-snapshot.json with the change.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import hre, { network } from "hardhat";
import { measureEscrowGas } from "./helpers/gasHarness.js";

const snapshot: Record<string, number> = JSON.parse(readFileSync(new URL("./gas-snapshot.json", import.meta.url), "utf8"));
const { viem, networkHelpers } = await network.create();

describe("gas snapshot", function () {
  it("test_gas_noOperationGrowsPastTheSnapshot", async function () {
    // Coverage instruments the contracts, which adds gas; the plain run of the suite checks the snapshot.
    if (hre.globalOptions.coverage) this.skip();
    const report = await measureEscrowGas(viem, networkHelpers);
    assert.deepEqual(Object.keys(report).sort(), Object.keys(snapshot).sort(), "measured operations differ from the snapshot");
    const grown = Object.entries(report)
      .filter(([operation, gasUsed]) => Number(gasUsed) > snapshot[operation]!)
      .map(([operation, gasUsed]) => `${operation}: ${gasUsed} > snapshot ${snapshot[operation]}`);
    assert.deepEqual(grown, [], `gas grew past test/gas-snapshot.json:\n${grown.join("\n")}`);
  });
});
