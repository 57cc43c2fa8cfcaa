import { type SQL, sql } from "drizzle-orm";
import { workingSet } from "../../db/set-type";
import { addDays, localDate, type LocalWeek, mondayOf, startOfLocalDay } from "../../lib/zoned-time";

// Weekly and muscle-group rollups kept at write time (tables hevy_weeks, hevy_week_templates;
// SPEC §7/§10/§12), in the same D1 batch as every workout write and delete
// (src/services/sync/store.ts):
//
// - Weeks are Monday-start weeks in the zone hevy_rollup_state names for the user. SQLite knows
//   no zones, so the writer computes the new versions' weeks in the Worker (`weeksOf`) and a stored
//   workout's week is found by its start time among the stored weeks' bounds.
// - A batch marks the weeks its writes touch (the old versions' weeks before they change, the new
//   ones' after) and recomputes each marked week from that week's rows alone: a few workouts and
//   their sets, never the user's history, and no running sums to drift.
// - Every statement holds only while the state row names the writer's zone (`rollupsIn`). A write
//   computed in another zone (one read before a zone change) leaves the rollups alone and drops
//   the state row, so readers go back to computing from the workouts until the rebuild
//   (src/services/metrics/rollup-rebuild.ts) has run; so does a write made while no state row was
//   there, if one appeared meanwhile.
//
// Readers use the rollups only when the state names the zone they ask in, and compute from the
// workouts otherwise — in the same SQL statement, so a read stays one round trip.

/** Whose rows a write is, and the zone their rollups were in when the writer looked (null: none). */
export interface RollupOwner {
  userId: string;
  rollupZone: string | null;
}

export interface WeekOfWorkout extends LocalWeek {
  id: string;
}

/** The local Monday-start week of an instant in `zone`. */
export function weekOf(ms: number, zone: string): LocalWeek {
  const weekStart = mondayOf(localDate(ms, zone));
  return { weekStart, from: startOfLocalDay(weekStart, zone), to: startOfLocalDay(addDays(weekStart, 7), zone) };
}

/** The week of each workout in `zone`; each distinct week computed once. */
export function weeksOf(workouts: Array<{ id: string; startTime: number }>, zone: string): WeekOfWorkout[] {
  const byDate = new Map<string, LocalWeek>();
  return workouts.map((w) => {
    const date = localDate(w.startTime, zone);
    let week = byDate.get(date);
    if (!week) {
      week = weekOf(w.startTime, zone);
      byDate.set(date, week);
    }
    return { id: w.id, ...week };
  });
}

/** SQL: the state row saying the user's rollups are complete in `zone`. */
const stateIn = (userId: string, zone: string) => sql`SELECT 1 FROM hevy_rollup_state r WHERE r.user_id = ${userId} AND r.zone = ${zone}`;

/** SQL: the user's rollups are complete in `zone`. */
export function rollupsIn(userId: string, zone: string): SQL {
  return sql`EXISTS (${stateIn(userId, zone)})`;
}

/**
 * Before a write: marks the current weeks of the stored, live workouts among `changing` (a
 * subquery of ids) — the weeks they leave. A stored workout's week is the last stored week
 * starting at or before its start.
 */
export function markOldWeeks(owner: RollupOwner, changing: SQL, guard: SQL): SQL[] {
  if (owner.rollupZone === null) return [];
  return [
    sql`UPDATE hevy_weeks SET dirty = 1 WHERE user_id = ${owner.userId} AND week_start IN (
        SELECT (SELECT wk.week_start FROM hevy_weeks wk WHERE wk.user_id = w.user_id AND wk.from_ms <= w.start_time
            ORDER BY wk.from_ms DESC LIMIT 1)
        FROM hevy_workouts w WHERE w.user_id = ${owner.userId} AND w.id IN ${changing} AND w.deleted_at IS NULL)
      AND ${rollupsIn(owner.userId, owner.rollupZone)} AND ${guard}`,
  ];
}

/**
 * After a write: marks (creating when new) the weeks of the workouts this batch stored
 * (`stored`, a subquery of ids; `weeks` their weeks in the owner's zone), then recomputes every
 * marked week, clears the marks, and — when the batch changed a workout (`changed`) — drops the
 * state row if it names another zone than the writer's. A batch that changed nothing leaves the
 * rollups as right as they were, whatever zone its writer saw.
 */
export function recomputeWeeks(owner: RollupOwner, guard: SQL, changed: SQL, stored?: { ids: SQL; weeks: WeekOfWorkout[] }): SQL[] {
  const invalidate = sql`DELETE FROM hevy_rollup_state WHERE user_id = ${owner.userId} AND zone IS NOT ${owner.rollupZone}
    AND ${changed} AND ${guard}`;
  if (owner.rollupZone === null) return [invalidate];
  const userId = owner.userId;
  const statements: SQL[] = [];
  if (stored && stored.weeks.length > 0) {
    statements.push(markWeeks(userId, stored.weeks, sql`j.value ->> 'id' IN ${stored.ids} AND ${rollupsIn(userId, owner.rollupZone)} AND ${guard}`));
  }
  return [...statements, ...recomputeMarkedWeeks(userId), invalidate];
}

/**
 * Marks `weeks` of the user for recomputing (`where` over each JSON row `j`: id, week, from, to),
 * creating the rows of weeks not stored yet.
 */
export function markWeeks(userId: string, weeks: Array<LocalWeek & { id?: string }>, where: SQL = sql`1`): SQL {
  const json = JSON.stringify(weeks.map((w) => ({ id: w.id, week: w.weekStart, from: w.from, to: w.to })));
  return sql`INSERT INTO hevy_weeks (user_id, week_start, from_ms, to_ms, dirty)
    SELECT DISTINCT ${userId}, j.value ->> 'week', j.value ->> 'from', j.value ->> 'to', 1
    FROM json_each(${json}) j WHERE ${where}
    ON CONFLICT (user_id, week_start) DO UPDATE SET dirty = 1`;
}

/**
 * Recomputes the user's marked weeks from their rows, then clears the marks. Only marked rows are
 * touched (a partial index holds them), so the cost is the marked weeks' workouts and sets.
 * The week's volume is summed over its workouts in (start_time, id) order, as a read computing it
 * from the workouts sums it, so both give the same number to the last bit.
 */
export function recomputeMarkedWeeks(userId: string): SQL[] {
  const marked = sql`(SELECT d.week_start FROM hevy_weeks d WHERE d.user_id = ${userId} AND d.dirty = 1)`;
  return [
    sql`UPDATE hevy_weeks SET (workouts, sets, volume_kg) = (
        SELECT count(w.id), coalesce(sum(w.set_count), 0), coalesce(sum(w.volume_kg), 0) FROM hevy_workouts w
        WHERE w.user_id = hevy_weeks.user_id AND w.deleted_at IS NULL
          AND w.start_time >= hevy_weeks.from_ms AND w.start_time < hevy_weeks.to_ms)
      WHERE user_id = ${userId} AND dirty = 1`,
    sql`DELETE FROM hevy_week_templates WHERE user_id = ${userId} AND week_start IN ${marked}`,
    sql`INSERT INTO hevy_week_templates (user_id, week_start, template_id, sets, volume_kg)
      SELECT wk.user_id, wk.week_start, coalesce(e.exercise_template_id, ''), count(*), total(s.weight_kg * s.reps)
      FROM hevy_weeks wk
      CROSS JOIN hevy_workouts w ON w.user_id = wk.user_id AND w.start_time >= wk.from_ms AND w.start_time < wk.to_ms
      CROSS JOIN hevy_exercises e ON e.workout_key = w.key
      CROSS JOIN hevy_sets s ON s.workout_key = e.workout_key AND s.exercise_index = e.exercise_index
      WHERE wk.user_id = ${userId} AND wk.dirty = 1 AND w.deleted_at IS NULL AND ${sql.raw(workingSet("s.type"))}
      GROUP BY wk.week_start, coalesce(e.exercise_template_id, '')`,
    sql`UPDATE hevy_weeks SET dirty = 0 WHERE user_id = ${userId} AND dirty = 1`,
  ];
}

/** The owner of a write made outside a sync job (fixtures, benchmarks, one-off tools): the zone read now. */
export async function rollupOwner(d1: D1Database, userId: string): Promise<RollupOwner> {
  const row = await d1.prepare("SELECT zone FROM hevy_rollup_state WHERE user_id = ?").bind(userId).first<{ zone: string }>();
  return { userId, rollupZone: row?.zone ?? null };
}

/** SQL: one row, `ok` 1 when the user's rollups are complete in `zone`, else 0 — the gate of a read's two branches. */
export function rollupsReady(userId: string, zone: string): SQL {
  return sql`SELECT ${rollupsIn(userId, zone)} AS ok`;
}
