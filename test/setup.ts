import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// One schema everywhere (scripts/migrate.ts): the directory and every shard.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
await applyD1Migrations(env.SHARD_0, env.TEST_MIGRATIONS);
await applyD1Migrations(env.SHARD_1, env.TEST_MIGRATIONS);
