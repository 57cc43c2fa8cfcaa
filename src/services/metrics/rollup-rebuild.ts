import { sql } from "drizzle-orm";
import { runBatch } from "../../db/batch";
import type { Deps } from "../../deps";
import type { SyncMessage } from "../../queue/messages";
import { RetryLater } from "../sync/retry";
import { markWeeks, recomputeMarkedWeeks, weeksOf } from "./rollups";
import { sendAll } from "../../queue/send";

// Rebuilding a user's weekly rollups from their rows (queue message `rebuild_rollups`): after a
// time-zone change (PATCH /admin/v1/users/{id}), after the migration that introduced them, and after
// a write found the rollups in a zone other than the one it computed weeks in. Until it has run,
// readers compute from the workouts (src/services/metrics/rollups.ts).
//
// One D1 batch, so it is all or nothing and no write interleaves with it: it drops the state row,
// rewrites every week from the rows stored at that moment, and writes the state row back only if
// the user's zone is still the one it computed weeks in and every live workout fell into one of
// those weeks (a workout stored after the Worker listed the weeks may not have): otherwise it runs
// again, with the weeks listed afresh.

/** Users whose rollups are missing or in an old zone, queued per cron run at most (10 sendBatch calls). */
export const REBUILDS_PER_RUN = 1000;
const ATTEMPTS = 3;

type RebuildDeps = Pick<Deps, "d1">;

/** Rebuilds one user's rollups; false when the user is gone. Throws RetryLater when writes kept moving under it. */
export async function rebuildRollups(deps: RebuildDeps, userId: string): Promise<boolean> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const user = await deps.d1.prepare("SELECT timezone FROM users WHERE id = ?").bind(userId).first<{ timezone: string }>();
    if (!user) return false;
    const zone = user.timezone;
    const { results } = await deps.d1
      .prepare("SELECT id, start_time AS startTime FROM hevy_workouts WHERE user_id = ? AND deleted_at IS NULL")
      .bind(userId)
      .all<{ id: string; startTime: number }>();
    const weeks = [...new Map(weeksOf(results, zone).map((w) => [w.weekStart, w])).values()];
    const out = await runBatch(deps.d1, [
      sql`DELETE FROM hevy_rollup_state WHERE user_id = ${userId}`,
      sql`DELETE FROM hevy_week_templates WHERE user_id = ${userId}`,
      sql`DELETE FROM hevy_weeks WHERE user_id = ${userId}`,
      markWeeks(userId, weeks),
      ...recomputeMarkedWeeks(userId),
      sql`INSERT INTO hevy_rollup_state (user_id, zone)
        SELECT ${userId}, ${zone} WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = ${userId} AND u.timezone = ${zone})
          AND (SELECT count(*) FROM hevy_workouts w WHERE w.user_id = ${userId} AND w.deleted_at IS NULL)
            = (SELECT coalesce(sum(wk.workouts), 0) FROM hevy_weeks wk WHERE wk.user_id = ${userId})`,
    ]);
    if ((out.at(-1)?.meta.changes ?? 0) > 0) return true;
  }
  throw new RetryLater(30, "the user's workouts or zone changed during each rebuild");
}

/**
 * Cron: queues a rebuild for users with Hevy rows whose rollups are missing or in a zone other than
 * theirs (right after the migration: every user with workouts; later: a rebuild that was lost, or
 * rollups a stale write dropped — tombstones count, so a user whose workouts were all deleted gets
 * their empty rollups back too). A user with no Hevy row at all has nothing to roll up.
 */
export async function queueRollupRebuilds(deps: Pick<Deps, "d1" | "queue">): Promise<number> {
  const { results } = await deps.d1
    .prepare(
      `SELECT u.id FROM users u LEFT JOIN hevy_rollup_state r ON r.user_id = u.id
       WHERE (r.zone IS NULL OR r.zone <> u.timezone) AND EXISTS (SELECT 1 FROM hevy_workouts w WHERE w.user_id = u.id)
       LIMIT ?`,
    )
    .bind(REBUILDS_PER_RUN)
    .all<{ id: string }>();
  return sendAll(deps.queue, results.map((r) => rebuildMessage(r.id)));
}

export const rebuildMessage = (userId: string): SyncMessage => ({ type: "rebuild_rollups", userId });
