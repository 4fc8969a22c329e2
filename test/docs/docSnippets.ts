// The TypeScript blocks (```ts, ```typescript, ```tsx for JSX) of README.md and docs/*.md, and the scratch project that type-checks them against
// the SDK's sources. A block preceded by `<!-- not-checked: reason -->` (blank lines allowed between) is
// skipped; the reason is required, so that every skip says why.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

export type DocSnippet = {
  /** Path relative to the repository, e.g. docs/server.md. */
  file: string;
  /** 1-based line of the block's first code line in `file`. */
  line: number;
  code: string;
  /** A ```tsx block: checked as a .tsx module (JSX with React's automatic runtime). */
  jsx?: true;
};

export type SkippedSnippet = { file: string; line: number; reason: string };

const FENCE = /^```(ts|typescript|tsx)\s*$/;
const NOT_CHECKED = /^<!--\s*not-checked:(.*)-->$/;

/** Every ```ts / ```typescript / ```tsx block of the markdown files, and those opted out. */
export async function extractSnippets({ root, files }: { root: string; files: readonly string[] }): Promise<{ snippets: DocSnippet[]; skipped: SkippedSnippet[] }> {
  const snippets: DocSnippet[] = [];
  const skipped: SkippedSnippet[] = [];
  for (const file of files) {
    const lines = (await readFile(path.join(root, file), "utf8")).split("\n");
    for (let index = 0; index < lines.length; index++) {
      const fence = FENCE.exec(lines[index]!);
      if (!fence) continue;
      const end = lines.findIndex((line, at) => at > index && line.startsWith("```"));
      if (end === -1) throw new Error(`${file}:${index + 1}: unterminated code block`);
      let before = index - 1;
      while (before >= 0 && lines[before]!.trim() === "") before--;
      const optOut = before >= 0 ? NOT_CHECKED.exec(lines[before]!.trim()) : null;
      if (optOut) {
        const reason = optOut[1]!.trim();
        if (reason === "") throw new Error(`${file}:${before + 1}: not-checked needs a reason`);
        skipped.push({ file, line: index + 2, reason });
      } else {
        snippets.push({ file, line: index + 2, code: lines.slice(index + 1, end).join("\n"), ...(fence[1] === "tsx" ? { jsx: true as const } : {}) });
      }
      index = end;
    }
  }
  return { snippets, skipped };
}

/** README.md and every docs/*.md, relative to `root`. */
export async function documentationFiles(root: string): Promise<string[]> {
  const docs = (await readdir(path.join(root, "docs"))).filter((name) => name.endsWith(".md")).sort();
  return ["README.md", ...docs.map((name) => `docs/${name}`)];
}

/**
 * tsconfig `paths` that send every `tollgate` entry of sdk/package.json's exports to its source file, so
 * snippets are checked against the code in this checkout, not a stale build.
 */
export async function sdkPaths(root: string): Promise<Record<string, string[]>> {
  const manifest = JSON.parse(await readFile(path.join(root, "sdk/package.json"), "utf8")) as { exports: Record<string, string | { default: string }> };
  const paths: Record<string, string[]> = {};
  for (const [subpath, target] of Object.entries(manifest.exports)) {
    const built = typeof target === "string" ? target : target.default;
    if (!built.endsWith(".js")) continue;
    const source = path.join(root, "sdk", built.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts"));
    paths[subpath === "." ? "tollgate" : `tollgate/${subpath.slice(2)}`] = [source];
  }
  return paths;
}
