import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { unstable_readConfig } from "wrangler";

// Test-only secrets: fixed values so failures are reproducible. Never used outside tests.
const TEST_KEY = "dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM="; // base64("test-key-encryption-key-32-bytes")
const TEST_ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

// wrangler.toml's required secrets, where wrangler looks for them when it reads the config for the
// Workers project (else it warns they are missing); the bindings below give the Worker the same.
process.env.KEY_ENCRYPTION_KEY ??= TEST_KEY;
process.env.ADMIN_TOKEN ??= TEST_ADMIN_TOKEN;

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  // The production rate limits, as wrangler.toml sets them: test/rate-limits.test.ts proves them.
  const rateLimits = Object.fromEntries(
    (unstable_readConfig({ config: path.join(import.meta.dirname, "wrangler.toml") }).ratelimits ?? []).map((r: { name: string; simple: { limit: number; period: number } }) => [r.name, r.simple]),
  );
  return {
    test: {
      reporters: ["default", "json"],
      outputFile: { json: "test-results/vitest.json" },
      projects: [
        {
          // Everything but the browser tests: inside the Workers runtime, real local D1/R2.
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  TEST_RATE_LIMITS: rateLimits,
                  HEVY_API_BASE_URL: "https://hevy.test",
                  PUBLIC_BASE_URL: "https://vitaltrends.test",
                  KEY_ENCRYPTION_KEY: TEST_KEY,
                  ADMIN_TOKEN: TEST_ADMIN_TOKEN,
                },
                // Tests drive the queue consumer explicitly (createMessageBatch) so every run is
                // deterministic; nothing is consumed behind a test's back.
                queueConsumers: {},
                // A database of its own for test/migrations.test.ts: migrated step by step, with
                // rows written between the steps, the way a deployed database meets a new migration.
                d1Databases: { MIGRATION_DB: "migration-test" },
              },
            }),
          ],
          test: {
            name: "workers",
            include: ["test/**/*.test.ts"],
            exclude: ["test/browser/**"],
            setupFiles: ["./test/setup.ts"],
            testTimeout: 20_000,
          },
        },
        {
          // Headless Chromium (Debian's) driving the pages of a `wrangler dev` Worker, from Node.
          test: {
            name: "browser",
            include: ["test/browser/**/*.test.ts"],
            environment: "node",
            testTimeout: 120_000,
            hookTimeout: 180_000,
          },
        },
      ],
    },
  };
});
