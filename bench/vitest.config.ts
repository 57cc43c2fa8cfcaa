import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Benchmarks that run inside the Workers runtime (real local D1, the fake Hevy in
// process), started by bench/run.ts — never part of `npm test`.
const KEY_ENCRYPTION_KEY = "YmVuY2gta2V5LWVuY3J5cHRpb24ta2V5LTMyLWJ5dGU=";
const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";
// wrangler.toml's required secrets, where wrangler looks for them when it reads the config (else it
// warns they are missing); the bindings below give the Worker the same.
process.env.KEY_ENCRYPTION_KEY ??= KEY_ENCRYPTION_KEY;
process.env.ADMIN_TOKEN ??= ADMIN_TOKEN;

export default defineConfig(async () => {
  const root = path.join(import.meta.dirname, "..");
  const migrations = await readD1Migrations(path.join(root, "migrations"));
  return {
    root,
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            HEVY_API_BASE_URL: "https://hevy.bench",
            PUBLIC_BASE_URL: "https://vitaltrends.bench",
            KEY_ENCRYPTION_KEY,
            ADMIN_TOKEN,
          },
          queueConsumers: {},
        },
      }),
    ],
    test: {
      include: ["bench/workers/**/*.bench-test.ts"],
      setupFiles: ["./test/setup.ts"],
      testTimeout: 20 * 60_000,
      reporters: ["default"],
    },
  };
});
