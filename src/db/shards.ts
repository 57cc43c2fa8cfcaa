import type { Env } from "../env";

// The shards of SPEC §12: D1 bindings SHARD_0 … SHARD_{N-1}, found on the environment by name, so
// a shard added to wrangler.toml is picked up with no code change (bindings are static: a new
// shard is a wrangler.toml entry, `npm run db:migrate -- --remote` and a deploy).

/** Every shard's database, by index. */
export function shardDatabases(env: Env): D1Database[] {
  const bindings = env as unknown as Record<string, D1Database | undefined>;
  const shards: D1Database[] = [];
  for (let i = 0; bindings[`SHARD_${i}`] !== undefined; i++) shards.push(bindings[`SHARD_${i}`]!);
  return shards;
}
