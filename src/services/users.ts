import { eq, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { runBatch } from "../db/batch";
import { apiTokens, hevyRollupState, hevyWeeks, hevyWeekTemplates, users } from "../db/schema";
import type { AuthUser } from "../env";
import { randomSecret, sha256Hex } from "../lib/crypto";
import { AppError, notFound } from "../lib/errors";
import type { SyncMessage } from "../queue/messages";
import { rebuildMessage } from "./metrics/rollup-rebuild";

export const API_TOKEN_PREFIX = "vt_";

export interface CreatedUser {
  user: AuthUser;
  apiToken: string;
}

/** Creates a user and their first API token. The token is returned once and stored only as a digest. */
export async function createUser(
  deps: { db: Db; now: () => number },
  input: { email: string; timezone: string },
): Promise<CreatedUser> {
  const email = input.email.trim().toLowerCase();
  const existing = await deps.db.select({ id: users.id }).from(users).where(eq(users.email, email)).get();
  if (existing) throw new AppError(409, "email_taken", "Email already registered", `A user with ${email} exists.`);

  const user: AuthUser = { id: crypto.randomUUID(), email, timezone: input.timezone };
  const apiToken = API_TOKEN_PREFIX + randomSecret(32);
  const now = deps.now();
  const tokenDigest = await sha256Hex(apiToken);
  try {
    await deps.db.batch([
      deps.db.insert(users).values({ ...user, createdAt: now }),
      deps.db.insert(apiTokens).values({ id: crypto.randomUUID(), userId: user.id, tokenDigest, createdAt: now }),
      // No workouts yet: the weekly rollups are complete (empty) in the user's zone.
      deps.db.insert(hevyRollupState).values({ userId: user.id, zone: user.timezone }),
    ]);
  } catch (err) {
    // A concurrent request registered the same email between the check and the insert.
    if (String(err).includes("UNIQUE constraint failed: users.email")) {
      throw new AppError(409, "email_taken", "Email already registered", `A user with ${email} exists.`);
    }
    throw err;
  }
  return { user, apiToken };
}

/** The user owning a live API token, or null. Looked up by the token's SHA-256 digest. */
export async function userForToken(db: Db, token: string): Promise<AuthUser | null> {
  const digest = await sha256Hex(token);
  const row = await db
    .select({ id: users.id, email: users.email, timezone: users.timezone, revokedAt: apiTokens.revokedAt })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(eq(apiTokens.tokenDigest, digest))
    .get();
  if (!row || row.revokedAt !== null) return null;
  return { id: row.id, email: row.email, timezone: row.timezone };
}

/**
 * Moves a user to another time zone. Weekly numbers are per local week, so the rollups kept in the
 * old zone stop counting in the same batch (readers compute from the workouts meanwhile) and a
 * rebuild is queued; with no live workout the empty rollups are complete in the new zone at once.
 */
export async function changeTimezone(
  deps: { db: Db; d1: D1Database; queue: Pick<Queue<SyncMessage>, "send"> },
  userId: string,
  timezone: string,
): Promise<AuthUser> {
  const row = await deps.db.select({ id: users.id, email: users.email, timezone: users.timezone }).from(users).where(eq(users.id, userId)).get();
  if (!row) throw notFound("No user with this id.");
  if (row.timezone === timezone) return row;
  const results = await runBatch(deps.d1, [
    deps.db.update(users).set({ timezone }).where(eq(users.id, userId)),
    deps.db.delete(hevyRollupState).where(eq(hevyRollupState.userId, userId)),
    // The old zone's weeks (emptied ones too: their bounds are the old zone's) go with it.
    deps.db.delete(hevyWeekTemplates).where(eq(hevyWeekTemplates.userId, userId)),
    deps.db.delete(hevyWeeks).where(eq(hevyWeeks.userId, userId)),
    sql`INSERT INTO hevy_rollup_state (user_id, zone) SELECT ${userId}, ${timezone}
      WHERE NOT EXISTS (SELECT 1 FROM hevy_workouts w WHERE w.user_id = ${userId} AND w.deleted_at IS NULL)`,
  ]);
  // If the send fails, the hourly cron queues the rebuild (src/services/metrics/rollup-rebuild.ts).
  if ((results.at(-1)?.meta.changes ?? 0) === 0) await deps.queue.send(rebuildMessage(userId));
  return { ...row, timezone };
}
