import { type SQL, sql } from "drizzle-orm";
import { userKey, workoutKeys } from "../../db/keys";
import { encodeSetType } from "../../db/set-type";
import type { Workout } from "../../hevy/types";
import { markPrsOf, offerPrCandidates, prCandidates, recomputeMarkedPrs } from "../metrics/pr-bests";
import { markOldWeeks, recomputeWeeks, type RollupOwner, weeksOf } from "../metrics/rollups";
import { rematchStatement } from "../unified-match";
import { deliveriesIn, isFanOut, type NewDelivery, workoutDeleteEvents, workoutUpsertEvents } from "../webhook-events";
import { workoutMetrics } from "./metrics";

// Storing workouts: a constant number of statements whatever the page holds,
// each over a JSON array bound as ONE parameter (json_each), so D1's limit of
// 100 bound parameters per statement never applies and a page is one round trip
// when the caller runs them in one batch (src/db/batch.ts; atomic: all or nothing).
//
// Version guard: a workout row is written only when Hevy's updated_at is newer
// than the stored one (an unchanged refetch writes nothing and counts as no
// change), and never over a tombstone at least as new. Its exercises and sets are
// replaced only where this batch just wrote the row (it holds exactly the incoming
// version, stamped with this batch's time), so a stale copy can't overwrite
// children of a newer one and an unchanged one rewrites none.
//
// Job guard (SPEC §11): every statement also carries `guard` — for sync jobs the
// condition that the connection is still the one the job started under
// (src/services/sync/scope.ts) — so a purge or key change that lands between a
// job's Hevy read and this batch makes the whole batch a no-op. Fixtures and
// benchmarks that seed rows directly pass none.

const ALWAYS = sql`1`;

// Rollups (SPEC §12): the weekly and per-template numbers of the weeks a write touches are
// recomputed in the same batch (src/services/metrics/rollups.ts), in the zone the owner's
// rollups were in when the writer looked.

/** One copy of each workout: the latest `updated_at` (the later one on a tie), so a batch never writes a workout twice. */
export function latestCopies(workouts: Workout[]): Workout[] {
  const byId = new Map<string, Workout>();
  for (const w of workouts) {
    const seen = byId.get(w.id);
    if (!seen || w.updatedAt >= seen.updatedAt) byId.set(w.id, w);
  }
  return byId.size === workouts.length ? workouts : [...byId.values()];
}

/**
 * `announce`: write outgoing webhook events (SPEC §15) for what the batch applies — the delta,
 * webhook and skipped-workout paths do; a backfill does not (it announces its completion once).
 */
export interface WriteOptions {
  announce?: boolean;
}

export function upsertWorkoutsStatements(owner: RollupOwner, page: Workout[], now: number, guard: SQL = ALWAYS, options: WriteOptions = {}) {
  const { userId } = owner;
  const workouts = latestCopies(page);
  if (workouts.length === 0) return NOTHING_TO_WRITE();
  const rows = workouts.map((w) => {
    const m = workoutMetrics(w);
    return {
      id: w.id, title: w.title, description: w.description, routine_id: w.routineId,
      start_time: w.startTime, end_time: w.endTime, updated_at: w.updatedAt, created_at: w.createdAt,
      volume_kg: m.volumeKg, set_count: m.setCount, exercise_count: m.exerciseCount,
    };
  });
  const exercises = workouts.flatMap((w) =>
    w.exercises.map((e) => ({
      workout_id: w.id, idx: e.index, title: e.title, notes: e.notes,
      template_id: e.exerciseTemplateId, superset_id: e.supersetId,
    })),
  );
  const sets = workouts.flatMap((w) =>
    w.exercises.flatMap((e) =>
      e.sets.map((s) => ({
        workout_id: w.id, exercise_idx: e.index, idx: s.index, type: s.type,
        weight_kg: s.weightKg, reps: s.reps, distance_meters: s.distanceMeters,
        duration_seconds: s.durationSeconds, rpe: s.rpe, custom_metric: s.customMetric,
      })),
    ),
  );
  const workoutsJson = JSON.stringify(rows);
  const candidates = prCandidates(workouts);
  // Workouts of this page whose stored row this batch just wrote. Written
  // as json_each outer + primary-key probes (EXISTS) and used as a non-correlated
  // IN list, so the cost follows the page, never the size of the stored history.
  const applied = sql`(SELECT j.value ->> 'id' FROM json_each(${workoutsJson}) j WHERE EXISTS (
      SELECT 1 FROM hevy_workouts w WHERE w.user_id = ${userId} AND w.id = j.value ->> 'id'
        AND w.hevy_updated_at = j.value ->> 'updated_at' AND w.synced_at = ${now} AND w.deleted_at IS NULL))`;
  // Stored workouts the upsert below will replace (the same version test), read before it does.
  const replacing = sql`(SELECT j.value ->> 'id' FROM json_each(${workoutsJson}) j WHERE EXISTS (
      SELECT 1 FROM hevy_workouts w WHERE w.user_id = ${userId} AND w.id = j.value ->> 'id'
        AND w.hevy_updated_at < j.value ->> 'updated_at'))`;

  const before = markOldWeeks(owner, replacing, guard);
  const events = options.announce ? workoutUpsertEvents(userId, workouts, now, guard) : null;
  const head = [...before, ...(events ? [events.stage] : [])];
  return withWrite(head.length, [
    // The weeks the old versions leave are marked before they change; events are written before the rows they describe change.
    ...head,
    sql`INSERT INTO hevy_workouts (user_id, id, title, description, routine_id, start_time, end_time,
        hevy_updated_at, hevy_created_at, deleted_at, volume_kg, set_count, exercise_count, synced_at)
      SELECT ${userId}, j.value ->> 'id', j.value ->> 'title', j.value ->> 'description', j.value ->> 'routine_id',
        j.value ->> 'start_time', j.value ->> 'end_time', j.value ->> 'updated_at', j.value ->> 'created_at', NULL,
        j.value ->> 'volume_kg', j.value ->> 'set_count', j.value ->> 'exercise_count', ${now}
      FROM json_each(${workoutsJson}) j WHERE ${guard}
      ON CONFLICT (user_id, id) DO UPDATE SET
        title = excluded.title, description = excluded.description, routine_id = excluded.routine_id,
        start_time = excluded.start_time, end_time = excluded.end_time, hevy_updated_at = excluded.hevy_updated_at,
        hevy_created_at = excluded.hevy_created_at, deleted_at = NULL, volume_kg = excluded.volume_kg,
        set_count = excluded.set_count, exercise_count = excluded.exercise_count, synced_at = excluded.synced_at
      WHERE excluded.hevy_updated_at > hevy_workouts.hevy_updated_at
        AND (hevy_workouts.deleted_at IS NULL OR excluded.hevy_updated_at > hevy_workouts.deleted_at)`,
    // PRs the old versions held may fall: their templates are marked before the old sets go.
    markPrsOf(userId, applied, guard, candidates),
    sql`DELETE FROM hevy_sets WHERE workout_key IN ${keysOf(userId, applied)} AND ${guard}`,
    sql`DELETE FROM hevy_exercises WHERE workout_key IN ${keysOf(userId, applied)} AND ${guard}`,
    userKeyStatement(userId, guard),
    sql`INSERT INTO hevy_exercises (workout_key, exercise_index, user_key, title, notes, exercise_template_id, superset_id)
      SELECT w.key, e.value ->> 'idx', ${userKey(userId)}, e.value ->> 'title', e.value ->> 'notes',
        e.value ->> 'template_id', e.value ->> 'superset_id'
      FROM json_each(${JSON.stringify(exercises)}) e
      CROSS JOIN hevy_workouts w ON w.user_id = ${userId} AND w.id = e.value ->> 'workout_id'
      WHERE e.value ->> 'workout_id' IN ${applied} AND ${guard}`,
    sql`INSERT INTO hevy_sets (workout_key, exercise_index, set_index, type, weight_kg, reps,
        distance_meters, duration_seconds, rpe, custom_metric)
      SELECT w.key, s.value ->> 'exercise_idx', s.value ->> 'idx', ${sql.raw(encodeSetType("s.value ->> 'type'"))},
        s.value ->> 'weight_kg', s.value ->> 'reps', s.value ->> 'distance_meters', s.value ->> 'duration_seconds',
        s.value ->> 'rpe', s.value ->> 'custom_metric'
      FROM json_each(${JSON.stringify(sets)}) s
      CROSS JOIN hevy_workouts w ON w.user_id = ${userId} AND w.id = s.value ->> 'workout_id'
      WHERE s.value ->> 'workout_id' IN ${applied} AND ${guard}`,
    ...recomputeMarkedPrs(userId, guard),
    offerPrCandidates(userId, candidates, applied, guard),
    ...recomputeWeeks(owner, guard, sql`EXISTS ${applied}`, { ids: applied, weeks: owner.rollupZone === null ? [] : weeksOf(workouts, owner.rollupZone) }),
    // The unified feed's Hevy ↔ Apple Health pairs around these workouts (new and old times).
    rematchStatement(userId, { hevyIds: workouts.map((w) => w.id) }),
    ...(events?.confirm ?? []),
  ]);
}

/**
 * Deletions from Hevy's events feed: the workout becomes a tombstone (kept so an
 * older `updated` cannot bring it back) and its exercises and sets are removed.
 * A tombstone is written even for a workout never seen, for the same reason. A
 * deletion older than the stored version does not apply.
 */
export function deleteWorkoutsStatements(
  owner: RollupOwner,
  deletions: Array<{ id: string; deletedAt: number }>,
  now: number,
  guard: SQL = ALWAYS,
  options: WriteOptions = {},
) {
  const { userId } = owner;
  if (deletions.length === 0) return NOTHING_TO_WRITE();
  const json = JSON.stringify(deletions.map((d) => ({ id: d.id, deleted_at: d.deletedAt })));
  const tombstoned = sql`(SELECT j.value ->> 'id' FROM json_each(${json}) j WHERE EXISTS (
      SELECT 1 FROM hevy_workouts w WHERE w.user_id = ${userId} AND w.id = j.value ->> 'id' AND w.deleted_at IS NOT NULL))`;
  const before = markOldWeeks(owner, sql`(SELECT j.value ->> 'id' FROM json_each(${json}) j)`, guard);
  const events = options.announce ? workoutDeleteEvents(userId, deletions, now, guard) : null;
  const head = [...before, ...(events ? [events.stage] : [])];
  return withWrite(head.length, [
    ...head,
    sql`INSERT INTO hevy_workouts (user_id, id, title, start_time, end_time, hevy_updated_at, deleted_at,
        volume_kg, set_count, exercise_count, synced_at)
      SELECT ${userId}, j.value ->> 'id', '', 0, 0, 0, j.value ->> 'deleted_at', 0, 0, 0, ${now}
      FROM json_each(${json}) j WHERE ${guard}
      ON CONFLICT (user_id, id) DO UPDATE SET deleted_at = excluded.deleted_at, synced_at = excluded.synced_at
      WHERE (hevy_workouts.deleted_at IS NULL OR hevy_workouts.deleted_at < excluded.deleted_at)
        AND hevy_workouts.hevy_updated_at <= excluded.deleted_at`,
    markPrsOf(userId, tombstoned, guard),
    sql`DELETE FROM hevy_sets WHERE workout_key IN ${keysOf(userId, tombstoned)} AND ${guard}`,
    sql`DELETE FROM hevy_exercises WHERE workout_key IN ${keysOf(userId, tombstoned)} AND ${guard}`,
    ...recomputeMarkedPrs(userId, guard),
    ...recomputeWeeks(owner, guard, sql`EXISTS (SELECT 1 FROM hevy_workouts w WHERE w.user_id = ${userId}
      AND w.id IN (SELECT j.value ->> 'id' FROM json_each(${json}) j) AND w.synced_at = ${now} AND w.deleted_at IS NOT NULL)`),
    // An Apple Health workout merged into a deleted one is freed (and may pair with another).
    rematchStatement(userId, { hevyIds: deletions.map((d) => d.id) }),
    ...(events?.confirm ?? []),
  ]);
}

/** The keys of the user's workouts among `ids` (a subquery of Hevy ids): unique-index probes. */
const keysOf = (userId: string, ids: SQL) => workoutKeys(userId, sql` AND w.id IN ${ids}`);

/** Gives the user a key on their first write (a no-op after). */
function userKeyStatement(userId: string, guard: SQL): SQL {
  return sql`INSERT INTO hevy_user_keys (user_id) SELECT ${userId} WHERE ${guard} ON CONFLICT (user_id) DO NOTHING`;
}

/**
 * A write's statements, which of them writes the workout rows (its `changes` count what was
 * applied; -1: none), and which fan webhook events out (their rows: the deliveries to queue).
 */
export type WriteStatements = SQL[] & { write: number; fanOuts: number[] };

function withWrite(write: number, statements: SQL[]): WriteStatements {
  // The fan-outs are the last statements of an announcing write (webhook-events.ts `confirm`).
  const fanOuts = statements.flatMap((s, i) => (isFanOut(s) ? [i] : []));
  return Object.assign(statements, { write, fanOuts });
}

/** An empty page or events list writes nothing: no statement at all. */
const NOTHING_TO_WRITE = () => withWrite(-1, []);

/** The new webhook deliveries of a write, from its batch's results (`offset`: where its statements start in the batch). */
export function deliveriesOf(results: D1Result[], offset: number, statements: WriteStatements): NewDelivery[] {
  return deliveriesIn(results, statements.fanOuts.map((i) => offset + i));
}

/** Workouts a write applied, from its batch's results (`offset`: where its statements start in the batch). */
export function appliedCount(results: D1Result[], offset: number, statements: WriteStatements): number {
  return statements.write < 0 ? 0 : (results[offset + statements.write]?.meta.changes ?? 0);
}
