// npm run dev [-- wrangler dev args]: local secrets, migrations, then `wrangler dev`.
// Runs on the project's Node 22 (node_modules/.bin/node) with native type stripping.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { writeDocsAssets } from "./docs-assets.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
process.chdir(root);
process.env.WRANGLER_SEND_METRICS = "false";

if (!existsSync(".dev.vars")) {
  const vars = [
    "# Local secrets for `wrangler dev`, created by `npm run dev`. Never commit this file.",
    `KEY_ENCRYPTION_KEY=${randomBytes(32).toString("base64")}`,
    `ADMIN_TOKEN=${randomBytes(24).toString("base64url")}`,
    "",
  ].join("\n");
  writeFileSync(".dev.vars", vars, { mode: 0o600 });
  console.log("Created .dev.vars with fresh random KEY_ENCRYPTION_KEY and ADMIN_TOKEN.");
}

// wrangler.toml's [assets] directory (Swagger UI for /docs), fresh from node_modules as postinstall writes it.
writeDocsAssets(root);

// The directory and every shard (scripts/migrate.ts).
const migrate = spawnSync("node", ["scripts/migrate.ts", "--local"], { stdio: "inherit" });
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const dev = spawn("wrangler", ["dev", ...process.argv.slice(2)], { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
