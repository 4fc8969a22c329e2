// npm run generate — writes sdk/src/generated/ from the compiled artifacts and deployments/*.json.
// `hardhat run` compiles first, so the ABIs are never older than the contracts.
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import hre from "hardhat";
import { GENERATED_DIR, renderBindings } from "./bindings/renderBindings.js";

const files = await renderBindings({ artifacts: hre.artifacts, deploymentsDir: "deployments" });

await mkdir(GENERATED_DIR, { recursive: true });
// A binding dropped from the list must not linger on disk.
for (const name of await readdir(GENERATED_DIR)) {
  if (!files.has(name)) await rm(path.join(GENERATED_DIR, name));
}
for (const [name, contents] of files) {
  await writeFile(path.join(GENERATED_DIR, name), contents);
  console.log(`wrote ${path.join(GENERATED_DIR, name)}`);
}
