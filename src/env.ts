import type { Deps } from "./deps";
import type { SyncMessage } from "./queue/messages";

/** Bindings of wrangler.toml plus secrets. */
export interface Env {
  /** The directory: users, API tokens, which shard each user lives on (src/db/shards.ts). */
  DB: D1Database;
  /** Shards SHARD_0 … SHARD_{N-1} (wrangler.toml ships two): every row of a user lives in one. */
  SHARD_0: D1Database;
  SHARD_1: D1Database;
  EXPORTS: R2Bucket;
  SYNC_QUEUE: Queue<SyncMessage>;
  /** Producer binding to SYNC_QUEUE's dead-letter queue: the consumer sends poison bodies there. */
  SYNC_DLQ: Queue<unknown>;
  HEVY_API_BASE_URL: string;
  PUBLIC_BASE_URL: string;
  /** base64 of 32 random bytes: the AES-256-GCM key for secrets at rest. */
  KEY_ENCRYPTION_KEY: string;
  /** Optional, comma-separated: earlier KEY_ENCRYPTION_KEYs still accepted for decryption. */
  KEY_ENCRYPTION_KEYS_PREVIOUS?: string;
  ADMIN_TOKEN: string;
}

export interface AuthUser {
  id: string;
  email: string;
  timezone: string;
  /** The shard holding the user's rows; null for a user placed before sharding (rows in DB). */
  shard: number | null;
  /** Set while the user's rows are being moved to this shard: writes wait (503 user_moving). */
  movingTo?: number | null;
}

/** Hono's environment: bindings plus what middleware puts on the context. */
export type AppEnv = {
  Bindings: Env;
  Variables: { requestId: string; deps: Deps; user: AuthUser };
};
