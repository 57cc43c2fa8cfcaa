import type { D1Migration } from "cloudflare:test";
import type { Env as WorkerEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
      /** wrangler.toml's `[[ratelimits]]`, by binding name (vitest.config.ts). */
      TEST_RATE_LIMITS: Record<string, { limit: number; period: number }>;
      /** test/migrations.test.ts only: migrated step by step. */
      MIGRATION_DB: D1Database;
    }
    interface GlobalProps {
      mainModule: typeof import("../src/index");
    }
  }
}
