// Type-checks documentation snippets as the modules a reader would paste: each block its own ES module
// (top-level await allowed), `tollgate/*` resolved to the SDK's sources, everything else from node_modules.
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import ts from "typescript";
import { type DocSnippet, sdkPaths } from "./docSnippets.js";

export type SnippetError = { file: string; line: number; code: number; message: string };

export type CheckSnippetsParameters = {
  root: string;
  snippets: readonly DocSnippet[];
  /** Whole files checked in the same program (docs/examples/*.ts), relative to `root`; one program is much faster than two. */
  files?: readonly string[];
};

/** Every TypeScript error in `snippets` (at its line in the markdown file) and `files`; none means they all compile. */
export async function checkSnippets({ root, snippets, files = [] }: CheckSnippetsParameters): Promise<SnippetError[]> {
  // Inside node_modules so that bare imports (viem, express…) resolve as in a project; git ignores it.
  const scratch = path.join(root, "node_modules/.cache/tollgate-doc-snippets", String(process.pid));
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  const bySource = new Map<string, DocSnippet>();
  try {
    for (const [index, snippet] of snippets.entries()) {
      // .tsx is an ES module too here: the nearest package.json (the repository's) says "type": "module".
      const name = path.join(scratch, `${index}-${snippet.file.replace(/[^A-Za-z0-9]+/g, "-")}-${snippet.line}.${snippet.jsx ? "tsx" : "mts"}`);
      // `export {}` keeps a block without imports a module of its own (no clashes between blocks).
      await writeFile(name, `${snippet.code}\nexport {};\n`);
      bySource.set(path.resolve(name), snippet);
    }
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ["lib.es2023.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
      types: ["node"],
      jsx: ts.JsxEmit.ReactJSX,
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      baseUrl: root,
      paths: await sdkPaths(root),
    };
    const own = new Map(files.map((file) => [path.resolve(root, file), file]));
    const program = ts.createProgram([...bySource.keys(), ...own.keys()], options);
    const errors: SnippetError[] = [];
    for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
      if (!diagnostic.file || diagnostic.start === undefined) continue;
      const source = path.resolve(diagnostic.file.fileName);
      const snippet = bySource.get(source) ?? (own.has(source) ? { file: own.get(source)!, line: 1 } : undefined);
      if (!snippet) continue;
      const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
      errors.push({ file: snippet.file, line: snippet.line + line, code: diagnostic.code, message: ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n") });
    }
    return errors;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** One line per error: `docs/server.md:12: TS2304 Cannot find name 'app'.` */
export function formatSnippetErrors(errors: readonly SnippetError[]): string {
  return errors.map(({ file, line, code, message }) => `${file}:${line}: TS${code} ${message}`).join("\n");
}

