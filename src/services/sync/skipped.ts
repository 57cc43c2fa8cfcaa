import { type SQL, sql } from "drizzle-orm";
import { runBatch } from "../../db/batch";
import type { Db } from "../../db/client";
import type { Deps } from "../../deps";
import { type RetryPolicy, withHevyRetry } from "./retry";
import { HevyError, type HevyClient, InvalidWorkoutRecord } from "../../hevy/client";
import type { SkippedRecord, Workout } from "../../hevy/types";
import { type JobScope, stillCurrent } from "./scope";
import { queueDeliveries } from "../webhook-events";
import { deliveriesOf, upsertWorkoutsStatements } from "./store";

// Hevy records that cannot be stored (SPEC §11): the rest of their page is stored,
// the connection view counts them (`skipped_workouts`), `last_error` names one,
// and each later sync fetches a few of them again by id until Hevy serves them
// well. The delta cursor advances regardless, so one bad record never holds back
// every later edit.

/** Skipped records fetched again per sync run: a handful of extra Hevy requests at most. */
export const SKIPPED_RETRIES_PER_RUN = 10;

/**
 * Statements for one stored page: records that failed are noted (or their note
 * refreshed), and workouts stored or deleted in it no longer count as skipped.
 */
export function skippedStatements(scope: JobScope, skipped: SkippedRecord[], storedIds: string[], now: number): SQL[] {
  const out: SQL[] = [];
  if (skipped.length > 0) {
    const json = JSON.stringify(skipped.map((s) => ({ key: s.key, reason: s.reason })));
    out.push(sql`INSERT INTO hevy_skipped_workouts (user_id, workout_key, reason, first_seen_at, last_seen_at)
      SELECT ${scope.userId}, j.value ->> 'key', j.value ->> 'reason', ${now}, ${now} FROM json_each(${json}) j WHERE ${stillCurrent(scope)}
      ON CONFLICT (user_id, workout_key) DO UPDATE SET reason = excluded.reason, last_seen_at = excluded.last_seen_at`);
  }
  if (storedIds.length > 0) {
    out.push(sql`DELETE FROM hevy_skipped_workouts WHERE user_id = ${scope.userId}
      AND workout_key IN (SELECT value FROM json_each(${JSON.stringify(storedIds)})) AND ${stillCurrent(scope)}`);
  }
  return out;
}

/**
 * `last_error` while records stay skipped (null when none): how many, and the first by key
 * with why. Used wherever a successful sync step clears the error.
 */
export function skippedError(userId: string): SQL {
  return sql`(SELECT 'Hevy sent ' || count(*) || ' workout(s) that cannot be stored yet (' || min(workout_key) || ': ' ||
      (SELECT s2.reason FROM hevy_skipped_workouts s2 WHERE s2.user_id = ${userId} ORDER BY s2.workout_key LIMIT 1) ||
      '); they are fetched again at every sync.'
    FROM hevy_skipped_workouts WHERE user_id = ${userId} HAVING count(*) > 0)`;
}

export async function countSkipped(db: Db, userId: string): Promise<number> {
  const row = await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM hevy_skipped_workouts WHERE user_id = ${userId}`);
  return row?.n ?? 0;
}

/**
 * GET /v1/workouts/{id} with the usual retries; a record that cannot be stored is
 * asked for once more (a garbled answer looks the same as a bad record), then
 * named as skipped instead of failing the job.
 */
export async function fetchWorkoutOrSkip(
  hevy: Pick<HevyClient, "getWorkout">,
  id: string,
  retry: RetryPolicy,
): Promise<{ workout: Workout | null; skipped: SkippedRecord | null }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { workout: await withHevyRetry(() => hevy.getWorkout(id), retry), skipped: null };
    } catch (err) {
      if (!(err instanceof InvalidWorkoutRecord)) throw err;
      if (attempt >= 2) return { workout: null, skipped: { ...err.skipped, key: id } };
    }
  }
}

/** The skipped workouts a run asks Hevy for again (the least recently tried first), to batch with the run's first write. */
export function skippedToRetryStatement(userId: string): SQL {
  return sql`SELECT workout_key AS key FROM hevy_skipped_workouts WHERE user_id = ${userId} AND workout_key NOT LIKE 'unidentified:%'
    ORDER BY last_seen_at, workout_key LIMIT ${SKIPPED_RETRIES_PER_RUN}`;
}

/**
 * Fetches skipped workouts again by id (`skippedToRetryStatement`'s rows): one Hevy now serves well
 * is stored, one Hevy no longer has is forgotten, one still bad keeps its note. Records without an
 * id cannot be fetched; a later walk of the list meets them.
 */
export async function retrySkipped(
  deps: Pick<Deps, "d1" | "now" | "webhookQueue">,
  hevy: Pick<HevyClient, "getWorkout">,
  scope: JobScope,
  retry: RetryPolicy,
  results: Array<{ key: string }>,
): Promise<number> {
  let stored = 0;
  for (const { key } of results) {
    let fetched: Awaited<ReturnType<typeof fetchWorkoutOrSkip>>;
    try {
      fetched = await fetchWorkoutOrSkip(hevy, key, retry);
    } catch (err) {
      // A 401 stops the run as anywhere else; any other failure only ends this round of retries,
      // so a workout Hevy keeps failing on never holds the delta (and its cursor) back.
      if (err instanceof HevyError && err.kind === "auth") throw err;
      break;
    }
    const { workout, skipped } = fetched;
    const at = deps.now();
    const upsert = workout ? upsertWorkoutsStatements(scope, [workout], at, stillCurrent(scope), { announce: true }) : null;
    const results = await runBatch(deps.d1, [...(upsert ?? []), ...skippedStatements(scope, skipped ? [skipped] : [], skipped ? [] : [key], at)]);
    if (upsert) await queueDeliveries(deps, scope.userId, deliveriesOf(results, 0, upsert));
    if (workout) stored++;
  }
  return stored;
}
