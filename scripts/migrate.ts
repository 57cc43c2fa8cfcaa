// npm run db:migrate -- --local | --remote [wrangler args]: applies migrations/ to the directory
// (DB) and to every shard (SHARD_0 … SHARD_{N-1}) of wrangler.toml, one after another, stopping
// at the first failure. One schema everywhere (docs/SCALING.md): a shard's directory tables and
// the directory's per-user tables simply stay empty.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { d1Bindings } from "./d1-bindings.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
if (!args.includes("--local") && !args.includes("--remote")) {
  console.error("usage: npm run db:migrate -- --local | --remote [more wrangler d1 migrations apply args]");
  process.exit(2);
}
for (const binding of d1Bindings(root)) {
  console.log(`\n== ${binding}`);
  const out = spawnSync("wrangler", ["d1", "migrations", "apply", binding, ...args], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" }, // CI: never prompt
  });
  if (out.status !== 0) process.exit(out.status ?? 1);
}
