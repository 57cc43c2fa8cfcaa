import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Test-only secrets: fixed values so failures are reproducible. Never used outside tests.
const TEST_KEY = "dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM="; // base64("test-key-encryption-key-32-bytes")

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
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
                  HEVY_API_BASE_URL: "https://hevy.test",
                  PUBLIC_BASE_URL: "https://vitaltrends.test",
                  KEY_ENCRYPTION_KEY: TEST_KEY,
                  ADMIN_TOKEN: "test-admin-token-0123456789abcdef",
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
