import { eq, sql } from "drizzle-orm";
import { createDb, type Db } from "../db/client";
import { type Deps, forShard } from "../deps";
import { runBatch } from "../db/batch";
import { apiTokens, hevyRollupState, hevyWeeks, hevyWeekTemplates, users } from "../db/schema";
import type { AuthUser } from "../env";
import { randomSecret, sha256Hex } from "../lib/crypto";
import { AppError, notFound } from "../lib/errors";
import { rebuildMessage } from "./metrics/rollup-rebuild";

export const API_TOKEN_PREFIX = "vt_";

export interface CreatedUser {
  user: AuthUser;
  apiToken: string;
}

type UserDeps = Pick<Deps, "directory" | "shards" | "now">;

/**
 * Creates a user and their first API token. The token is returned once and stored only as a digest.
 * The user is placed on the shard with the fewest users (ties: the lowest index; SPEC §12), which
 * gets a copy of the user row (the rows' foreign key, and the zone the rollups need) and the
 * rollup state.
 */
export async function createUser(deps: UserDeps, input: { email: string; timezone: string }): Promise<CreatedUser> {
  const directory = deps.directory.db;
  const email = input.email.trim().toLowerCase();
  const existing = await directory.select({ id: users.id }).from(users).where(eq(users.email, email)).get();
  if (existing) throw emailTaken(email);

  const shard = await emptiestShard(deps);
  const user: AuthUser = { id: crypto.randomUUID(), email, timezone: input.timezone, shard };
  const apiToken = API_TOKEN_PREFIX + randomSecret(32);
  const now = deps.now();
  const tokenDigest = await sha256Hex(apiToken);
  const row = { id: user.id, email, timezone: user.timezone, createdAt: now };
  // No workouts yet: the weekly rollups are complete (empty) in the user's zone.
  const state = (db: Db) => db.insert(hevyRollupState).values({ userId: user.id, zone: user.timezone });
  // The directory decides (one email, one user); then the shard's copy of the row, which the
  // user's rows there refer to. If that fails, the directory row goes again: no user half made.
  try {
    await directory.batch([
      directory.insert(users).values({ ...row, shard }),
      directory.insert(apiTokens).values({ id: crypto.randomUUID(), userId: user.id, tokenDigest, createdAt: now }),
      ...(shard === null ? [state(directory)] : []),
    ]);
  } catch (err) {
    // A concurrent request registered the same email between the check and the insert.
    if (String(err).includes("UNIQUE constraint failed: users.email")) throw emailTaken(email);
    throw err;
  }
  if (shard !== null) {
    const shardDb = createDb(deps.shards[shard]!);
    try {
      // A copy left by a creation that failed after this step (same email, never used) is replaced.
      await shardDb.batch([
        shardDb.insert(users).values(row).onConflictDoUpdate({ target: users.email, set: { id: user.id, timezone: user.timezone, createdAt: now } }),
        state(shardDb),
      ]);
    } catch (err) {
      await directory.batch([directory.delete(apiTokens).where(eq(apiTokens.userId, user.id)), directory.delete(users).where(eq(users.id, user.id))]);
      throw err;
    }
  }
  return { user, apiToken };
}

const emailTaken = (email: string) => new AppError(409, "email_taken", "Email already registered", `A user with ${email} exists.`);

/** The shard with the fewest users, those on their way to it included (ties: the lowest index); null when the deployment has none. */
export async function emptiestShard(deps: Pick<Deps, "directory" | "shards">): Promise<number | null> {
  if (deps.shards.length === 0) return null;
  const { results } = await deps.directory.d1
    .prepare("SELECT coalesce(moving_to, shard) AS shard, count(*) AS n FROM users WHERE coalesce(moving_to, shard) IS NOT NULL GROUP BY 1")
    .all<{ shard: number; n: number }>();
  const counts = new Map(results.map((r) => [r.shard, r.n]));
  let best = 0;
  for (let i = 1; i < deps.shards.length; i++) if ((counts.get(i) ?? 0) < (counts.get(best) ?? 0)) best = i;
  return best;
}

/**
 * The user owning a live API token, with the token's id (what its rate limit counts by), or null.
 * Looked up in the directory by the token's SHA-256 digest.
 */
export async function userForToken(directory: Db, token: string): Promise<(AuthUser & { tokenId: string }) | null> {
  const digest = await sha256Hex(token);
  const row = await directory
    .select({ id: users.id, email: users.email, timezone: users.timezone, shard: users.shard, movingTo: users.movingTo, tokenId: apiTokens.id, revokedAt: apiTokens.revokedAt })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(eq(apiTokens.tokenDigest, digest))
    .get();
  if (!row || row.revokedAt !== null) return null;
  return { id: row.id, email: row.email, timezone: row.timezone, shard: row.shard, movingTo: row.movingTo, tokenId: row.tokenId };
}

/** A user as the admin API shows them. */
export const userView = (user: AuthUser) => ({ id: user.id, email: user.email, timezone: user.timezone });

/**
 * Moves a user to another time zone. Weekly numbers are per local week, so the rollups kept in the
 * old zone stop counting in the same batch (readers compute from the workouts meanwhile) and a
 * rebuild is queued; with no live workout the empty rollups are complete in the new zone at once.
 */
export async function changeTimezone(
  deps: Pick<Deps, "directory" | "shards" | "queue">,
  userId: string,
  timezone: string,
): Promise<AuthUser> {
  const directory = deps.directory.db;
  const row = await directory
    .select({ id: users.id, email: users.email, timezone: users.timezone, shard: users.shard, moveId: users.moveId })
    .from(users)
    .where(eq(users.id, userId))
    .get();
  if (!row) throw notFound("No user with this id.");
  if (row.moveId !== null) {
    throw new AppError(409, "user_moving", "The user is being moved", "The user's data is moving to another database; change the zone once the move is done.");
  }
  const shard = forShard(deps as Deps, row.shard);
  // Already the zone, here and in the shard's copy (a retry after a failure between the two): done.
  const copy = await shard.db.select({ timezone: users.timezone }).from(users).where(eq(users.id, userId)).get();
  if (row.timezone === timezone && copy?.timezone === timezone) return { id: row.id, email: row.email, timezone, shard: row.shard };
  // The shard first: once its rollups stop counting, readers in either zone compute from the rows,
  // so a directory update that fails after it (retried by the caller) leaves every answer right.
  const results = await runBatch(shard.d1, [
    shard.db.update(users).set({ timezone }).where(eq(users.id, userId)),
    shard.db.delete(hevyRollupState).where(eq(hevyRollupState.userId, userId)),
    // The old zone's weeks (emptied ones too: their bounds are the old zone's) go with it.
    shard.db.delete(hevyWeekTemplates).where(eq(hevyWeekTemplates.userId, userId)),
    shard.db.delete(hevyWeeks).where(eq(hevyWeeks.userId, userId)),
    sql`INSERT INTO hevy_rollup_state (user_id, zone) SELECT ${userId}, ${timezone}
      WHERE NOT EXISTS (SELECT 1 FROM hevy_workouts w WHERE w.user_id = ${userId} AND w.deleted_at IS NULL)`,
  ]);
  if (row.shard !== null) await directory.update(users).set({ timezone }).where(eq(users.id, userId));
  // If the send fails, the hourly cron queues the rebuild (src/services/metrics/rollup-rebuild.ts).
  if ((results.at(-1)?.meta.changes ?? 0) === 0) await deps.queue.send(rebuildMessage(userId));
  return { id: row.id, email: row.email, timezone, shard: row.shard };
}
