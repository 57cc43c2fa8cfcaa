// npm postinstall and predeploy; also called by `npm run dev`, `npm run bundle:size` and the local
// Worker of the browser tests and benchmarks. Copies what GET /docs needs from npm's
// swagger-ui-dist into static/docs/assets/, the directory wrangler.toml's [assets] serves, so
// Swagger UI comes from this deployment and never from a CDN. static/ is generated (gitignored):
// the script, its stylesheet, the favicon and the licence texts, never the source maps.
// Runs on the project's Node 22 (node_modules/.bin/node) with native type stripping.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** URL path of the files (wrangler.toml's run_worker_first leaves exactly this prefix to the assets). */
export const DOCS_ASSETS_PATH = "docs/assets";

/** Copied as they are, except for a stripped source-map comment (the maps are not copied). */
const FILES = [
  "swagger-ui-bundle.js",
  "swagger-ui.css",
  "favicon-32x32.png",
  // Apache-2.0: the licence, NOTICE and the bundle's third-party licences travel with the code.
  "LICENSE",
  "NOTICE",
  "swagger-ui-bundle.js.LICENSE.txt",
];

/** Writes `<root>/static/docs/assets/*` afresh; returns the files written and their total size. */
export function writeDocsAssets(root: string): { files: string[]; bytes: number } {
  const require = createRequire(join(root, "package.json"));
  const dist = dirname(require.resolve("swagger-ui-dist/package.json"));
  const staticDir = join(root, "static");
  const out = join(staticDir, DOCS_ASSETS_PATH);
  rmSync(staticDir, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  let bytes = 0;
  for (const file of FILES) {
    if (/\.(js|css)$/.test(file)) {
      const text = readFileSync(join(dist, file), "utf8").replace(/\n?\/[/*]# sourceMappingURL=\S+?(\s*\*\/)?\s*$/, "\n");
      writeFileSync(join(out, file), text);
      bytes += Buffer.byteLength(text);
    } else {
      copyFileSync(join(dist, file), join(out, file));
      bytes += readFileSync(join(out, file)).length;
    }
  }
  return { files: FILES, bytes };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const { version } = JSON.parse(readFileSync(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"), "utf8")) as { version: string };
  const { files, bytes } = writeDocsAssets(root);
  console.log(`docs assets: swagger-ui-dist ${version}, ${files.length} files, ${(bytes / 1024).toFixed(0)} KiB → static/${DOCS_ASSETS_PATH}/`);
}
