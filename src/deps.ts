import { createDb, type Db } from "./db/client";
import { type D1Stats, instrumentD1 } from "./db/instrument";
import { shardDatabases } from "./db/shards";
import type { Env } from "./env";
import { createHevyClient, type HevyClient } from "./hevy/client";
import { Keyring } from "./lib/crypto";
import { RATE_LIMIT_PERIODS, type RateLimiter, rateLimiter } from "./lib/rate-limit";
import type { SyncMessage, WebhookDeliveryMessage } from "./queue/messages";

/**
 * What services need, built once per request or invocation from the bindings.
 * Services take this (or a narrower part of it), never the Hono context, so
 * routes, queue consumers and cron share them and tests can pass their own.
 */
export interface Deps {
  /**
   * The database of the user being served: their shard (SPEC §12), resolved once per request,
   * queue message or cron slice (`forShard`); the directory's until a user is known.
   */
  db: Db;
  /** The D1 binding behind `db`, for raw batches (src/db/batch.ts). */
  d1: D1Database;
  /** The directory: users, API tokens, page sessions, webhook routes, dead letters. */
  directory: { db: Db; d1: D1Database };
  /** Every shard's database, by index (src/db/shards.ts). */
  shards: D1Database[];
  queue: Queue<SyncMessage>;
  /** Outgoing webhook deliveries (SPEC §15): a queue apart, so a slow consumer endpoint never holds up sync. */
  webhookQueue: Queue<WebhookDeliveryMessage>;
  /** The R2 bucket of CSV exports. */
  exportsBucket: R2Bucket;
  keyring: Keyring;
  hevy: (apiKey: string, opts?: { onRequest?: () => void }) => HevyClient;
  now: () => number;
  publicBaseUrl: string;
  /** Per API token (`/api/v1`) and per Hevy connection (webhook intake): SPEC §14, wrangler.toml. */
  rateLimits: { api: RateLimiter; webhook: RateLimiter };
  /** Round trips made through `db`, when it is instrumented (queue consumers). */
  d1Stats?: D1Stats;
  /** Wraps every database binding (directory and shards) when the deps are built: tests count or fault D1 this way. */
  wrapD1?: (d1: D1Database) => D1Database;
}

/**
 * Imported keys kept per isolate, by the secrets' values: every request needs the
 * keyring, and importing it each time is work done again for nothing. A rotated
 * secret is a different cache key, so it takes effect with the next request.
 */
const keyrings = new Map<string, Promise<Keyring>>();
function keyringFor(env: Env): Promise<Keyring> {
  const id = `${env.KEY_ENCRYPTION_KEY}\u0000${env.KEY_ENCRYPTION_KEYS_PREVIOUS ?? ""}`;
  let keyring = keyrings.get(id);
  if (!keyring) {
    keyring = Keyring.load(env.KEY_ENCRYPTION_KEY, env.KEY_ENCRYPTION_KEYS_PREVIOUS);
    // A bad secret is not cached: the next request reports it again.
    keyring.catch(() => keyrings.delete(id));
    keyrings.set(id, keyring);
  }
  return keyring;
}

export async function createDeps(env: Env, overrides: Partial<Deps> = {}): Promise<Deps> {
  const now = overrides.now ?? Date.now;
  const wrap = overrides.wrapD1 ?? ((d1: D1Database) => d1);
  const directory = wrap(env.DB);
  const directoryDb = createDb(directory);
  return {
    db: directoryDb,
    d1: directory,
    directory: { db: directoryDb, d1: directory },
    shards: shardDatabases(env).map(wrap),
    queue: env.SYNC_QUEUE,
    webhookQueue: env.WEBHOOK_QUEUE,
    exportsBucket: env.EXPORTS,
    keyring: await keyringFor(env),
    hevy: (apiKey, opts) =>
      createHevyClient({ baseUrl: env.HEVY_API_BASE_URL, apiKey, now, onRequest: opts?.onRequest }),
    now,
    publicBaseUrl: env.PUBLIC_BASE_URL.replace(/\/+$/, ""),
    rateLimits: {
      api: rateLimiter(env.API_RATE_LIMIT, RATE_LIMIT_PERIODS.API_RATE_LIMIT, "This API token sent too many requests."),
      webhook: rateLimiter(env.WEBHOOK_RATE_LIMIT, RATE_LIMIT_PERIODS.WEBHOOK_RATE_LIMIT, "This webhook received too many deliveries."),
    },
    ...overrides,
  };
}

/**
 * The same dependencies serving the user on `shard`: `db`/`d1` are that shard's database (the
 * directory's for null, a user placed before sharding).
 */
export function forShard(deps: Deps, shard: number | null): Deps {
  const d1 = shardD1(deps, shard);
  return { ...deps, db: createDb(d1), d1 };
}

/** The binding of shard `shard` (null: the directory, for users placed before sharding). */
export function shardD1(deps: Pick<Deps, "directory" | "shards">, shard: number | null): D1Database {
  const d1 = shard === null ? deps.directory.d1 : deps.shards[shard];
  if (!d1) throw new Error(`no D1 binding SHARD_${shard}: the directory names a shard this deployment does not have`);
  return d1;
}

/** Every database that may hold users' rows: the directory (users placed before sharding), then each shard. */
export function dataDatabases(deps: Deps): Array<{ shard: number | null; d1: D1Database }> {
  return [{ shard: null, d1: deps.directory.d1 }, ...deps.shards.map((d1, shard) => ({ shard, d1 }))];
}

/** The same dependencies with `db` counting its D1 round trips into `stats`. */
export function withD1Stats(deps: Deps, d1: D1Database, stats: D1Stats): Deps {
  const instrumented = instrumentD1(d1, stats);
  return { ...deps, db: createDb(instrumented), d1: instrumented, d1Stats: stats };
}
