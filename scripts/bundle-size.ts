// npm run bundle:size: builds the deploy bundle as `wrangler deploy` would (--dry-run, nothing is
// uploaded), prints its size raw and gzipped (Workers' size limits count the gzipped upload) and
// what it is made of, by package; then the static assets uploaded beside it (not in the bundle). Exits non-zero when the build fails (.ci/run relies on it).
// Runs on the project's Node 22 (node_modules/.bin/node) with native type stripping.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { writeDocsAssets } from "./docs-assets.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = mkdtempSync(join(tmpdir(), "vt-bundle-"));
const metafile = join(outdir, "meta.json");

try {
  // wrangler.toml's [assets] directory, as npm postinstall writes it (deploy refuses to run without it).
  const assets = writeDocsAssets(root);
  const build = spawnSync("wrangler", ["deploy", "--dry-run", "--outdir", outdir, "--metafile", metafile], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
    encoding: "utf8",
  });
  if (build.status !== 0) throw new Error(`bundle: wrangler deploy --dry-run failed\n${build.stdout}\n${build.stderr}`);

  // What would be uploaded: the modules, not the source map, metafile or wrangler's README.
  const modules = readdirSync(outdir).filter((f) => !/\.(map|md)$/.test(f) && f !== "meta.json");
  let raw = 0;
  let gzipped = 0;
  for (const file of modules) {
    const bytes = readFileSync(join(outdir, file));
    raw += bytes.length;
    gzipped += gzipSync(bytes).length;
  }
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(`bundle: ${kib(raw)} raw, ${kib(gzipped)} gzipped (${modules.join(", ")})`);

  // Bytes each input contributes to the output, summed per npm package or per src/ folder.
  const meta = JSON.parse(readFileSync(metafile, "utf8")) as { outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }> };
  const parts = new Map<string, number>();
  let total = 0;
  for (const output of Object.values(meta.outputs)) {
    for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1];
      const part = pkg ?? file.split("/").slice(0, file.startsWith("src/") ? 2 : 1).join("/");
      parts.set(part, (parts.get(part) ?? 0) + bytesInOutput);
      total += bytesInOutput;
    }
  }
  for (const [part, bytes] of [...parts].sort((a, b) => b[1] - a[1]).slice(0, 8)) {
    console.log(`  ${kib(bytes).padStart(10)}  ${((100 * bytes) / total).toFixed(0).padStart(3)}%  ${part}`);
  }
  console.log(`static assets (not in the bundle): ${kib(assets.bytes)} in ${assets.files.length} files under static/ (Swagger UI for /docs)`);
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
