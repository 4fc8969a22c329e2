// Docs that compile: every ```ts block of README.md and docs/*.md type-checks against the SDK.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { checkSnippets, formatSnippetErrors } from "./checkSnippets.js";
import { documentationFiles, extractSnippets } from "./docSnippets.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("documentation snippets", function () {
  this.timeout(120_000);

  it("test_docs_everyTypeScriptBlockAndExample_typeChecksAgainstTheSdk", async () => {
    const { snippets, skipped } = await extractSnippets({ root, files: await documentationFiles(root) });
    assert.ok(snippets.length >= 5, `found only ${snippets.length} blocks`);
    // Opting out is for fragments only: keep it rare.
    assert.ok(skipped.length <= Math.max(2, snippets.length / 5), `too many not-checked blocks: ${skipped.map(({ file, line }) => `${file}:${line}`).join(", ")}`);
    // The examples too (their tsconfig maps `tollgate/*` to the same sources as the snippets' paths).
    const examples = (await readdir(path.join(root, "docs/examples"))).filter((name) => name.endsWith(".ts")).map((name) => `docs/examples/${name}`);
    assert.ok(examples.length >= 6, examples.join(", "));
    const errors = await checkSnippets({ root, snippets, files: examples });
    assert.equal(errors.length, 0, `documentation snippets that do not compile:\n${formatSnippetErrors(errors)}`);
  });

  it("test_docs_brokenSnippet_reportedWithFileLineAndTsError", async () => {
    const scratch = await mkdtemp(path.join(tmpdir(), "tollgate-doc-snippets-"));
    try {
      await mkdir(path.join(scratch, "docs"));
      const markdown = [
        "# Example",
        "```ts",
        'import { createPaymentGate } from "tollgate/server";',
        "const gate = createPaymentGate({ chain: 1 });",
        "```",
        "<!-- not-checked: a fragment -->",
        "",
        "```typescript",
        "this is not TypeScript",
        "```",
        "```ts",
        "const price: bigint = 0.01;",
        "```",
        "```tsx",
        "export const Price = ({ amount }: { amount: bigint }) => <p>{amount.toString()}</p>;",
        "export const wrong = <Price amount={1} />;",
        "```",
      ].join("\n");
      await writeFile(path.join(scratch, "docs/example.md"), markdown);
      const { snippets, skipped } = await extractSnippets({ root: scratch, files: ["docs/example.md"] });
      assert.deepEqual(skipped, [{ file: "docs/example.md", line: 9, reason: "a fragment" }]);
      assert.deepEqual(snippets.map(({ line, jsx }) => [line, jsx]), [[3, undefined], [12, undefined], [15, true]]);
      const errors = await checkSnippets({ root, snippets });
      const report = formatSnippetErrors(errors);
      assert.match(report, /^docs\/example\.md:4: TS2322 /m, report);
      assert.match(report, /^docs\/example\.md:12: TS2322 Type 'number' is not assignable to type 'bigint'\./m, report);
      // JSX type-checks (the component's props), and the block's first line compiles.
      assert.match(report, /^docs\/example\.md:16: TS2322 Type 'number' is not assignable to type 'bigint'\./m, report);
      assert.equal(errors.filter(({ line }) => line === 15).length, 0, report);

      await writeFile(path.join(scratch, "docs/example.md"), "<!-- not-checked: -->\n```ts\nx\n```\n");
      await assert.rejects(extractSnippets({ root: scratch, files: ["docs/example.md"] }), /docs\/example\.md:1: not-checked needs a reason/);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
