import { type SQL, sql } from "drizzle-orm";
import { workingSet } from "../../db/set-type";
import type { Workout } from "../../hevy/types";

// Current all-time PRs kept at write time (table hevy_prs, SPEC §7/§10/§12), in the same
// D1 batch as every workout write and delete (src/services/sync/store.ts):
//
// - A write can only raise a PR with its new sets: the eligible sets of the workouts this batch
//   stored are candidates, the best per template and kind is offered to hevy_prs, and replaces
//   the current PR when its value is higher, or equal and its set earlier (workout start,
//   exercise index, set index — the contract's tie-break — then the smaller workout id).
// - A write or delete can only lower a PR held by the old version of a workout: before the old
//   sets go, the templates of the PRs such workouts held are marked (hevy_pr_dirty) — unless the
//   new version still has the very set that holds it, unchanged — and once the new sets are in,
//   the marked templates' PRs are recomputed from their sets alone (an index range on exercises
//   by template), then the marks are cleared. Rare, and bounded by one template's history, never
//   the user's.
//
// Every statement carries the writer's guard (the job scope), like the rest of the batch.

/** The eligible sets of `workouts` (non-warm-up, with a template, weight > 0 or reps ≥ 1), as the JSON the statements read. */
export function prCandidates(workouts: Workout[]): string {
  return JSON.stringify(
    workouts.flatMap((w) =>
      w.exercises.flatMap((e) =>
        e.exerciseTemplateId === null
          ? []
          : e.sets
              .filter((s) => s.type !== "warmup" && ((s.weightKg ?? 0) > 0 || (s.reps ?? 0) >= 1))
              .map((s) => ({ w: w.id, tid: e.exerciseTemplateId, wt: s.weightKg, reps: s.reps, st: w.startTime, ei: e.index, si: s.index })),
      ),
    ),
  );
}

/**
 * Marks the templates whose PRs `workouts` (re-versioned or tombstoned in this batch) held, except
 * where `candidates` (the new versions' sets) still has the holding set unchanged. Run before the
 * old sets are deleted.
 */
export function markPrsOf(userId: string, workouts: SQL, guard: SQL, candidates = "[]"): SQL {
  return sql`INSERT OR IGNORE INTO hevy_pr_dirty (user_id, template_id)
    SELECT p.user_id, p.template_id FROM hevy_prs p
    WHERE p.user_id = ${userId} AND p.workout_id IN ${workouts} AND ${guard}
      AND NOT EXISTS (SELECT 1 FROM json_each(${candidates}) j
        WHERE j.value ->> 'w' = p.workout_id AND j.value ->> 'tid' = p.template_id AND j.value ->> 'st' = p.start_time
          AND j.value ->> 'ei' = p.exercise_index AND j.value ->> 'si' = p.set_index
          AND (j.value ->> 'wt') IS p.weight_kg AND (j.value ->> 'reps') IS p.reps)`;
}

/** Recomputes the marked templates' PRs from their stored sets, then clears the marks. Run after the new sets are in. */
export function recomputeMarkedPrs(userId: string, guard: SQL): SQL[] {
  const marked = sql`(SELECT d.template_id FROM hevy_pr_dirty d WHERE d.user_id = ${userId})`;
  // The marks drive the join (CROSS JOIN fixes SQLite's order): no mark, nothing read.
  const sets = sql`SELECT e.exercise_template_id AS tid, s.weight_kg AS wt, s.reps AS reps, w.start_time AS st,
      e.exercise_index AS ei, s.set_index AS si, w.id AS w
    FROM hevy_pr_dirty d
    CROSS JOIN hevy_user_keys k ON k.user_id = d.user_id
    CROSS JOIN hevy_exercises e ON e.user_key = k.key AND e.exercise_template_id = d.template_id
    CROSS JOIN hevy_workouts w ON w.key = e.workout_key
    CROSS JOIN hevy_sets s ON s.workout_key = e.workout_key AND s.exercise_index = e.exercise_index
    WHERE d.user_id = ${userId} AND w.user_id = d.user_id AND w.deleted_at IS NULL AND ${sql.raw(workingSet("s.type"))} AND (s.weight_kg > 0 OR s.reps >= 1) AND ${guard}`;
  return [
    sql`DELETE FROM hevy_prs WHERE user_id = ${userId} AND template_id IN ${marked} AND ${guard}`,
    bestInto(userId, sets, sql``),
    sql`DELETE FROM hevy_pr_dirty WHERE user_id = ${userId}`,
  ];
}

/** Offers the best eligible set per template and kind of `workouts` (only those this batch stored: `stored`). */
export function offerPrCandidates(userId: string, candidates: string, stored: SQL, guard: SQL): SQL {
  const sets = sql`SELECT j.value ->> 'tid' AS tid, j.value ->> 'wt' AS wt, j.value ->> 'reps' AS reps, j.value ->> 'st' AS st,
      j.value ->> 'ei' AS ei, j.value ->> 'si' AS si, j.value ->> 'w' AS w
    FROM json_each(${candidates}) j WHERE j.value ->> 'w' IN ${stored} AND ${guard}`;
  return bestInto(userId, sets, sql`
    ON CONFLICT (user_id, template_id, kind) DO UPDATE SET value = excluded.value, weight_kg = excluded.weight_kg,
      reps = excluded.reps, start_time = excluded.start_time, exercise_index = excluded.exercise_index,
      set_index = excluded.set_index, workout_id = excluded.workout_id
    WHERE excluded.value > hevy_prs.value OR (excluded.value = hevy_prs.value
      AND (excluded.start_time, excluded.exercise_index, excluded.set_index, excluded.workout_id)
        < (hevy_prs.start_time, hevy_prs.exercise_index, hevy_prs.set_index, hevy_prs.workout_id))`);
}

/**
 * INSERT of the best of `sets` (rows tid, wt, reps, st, ei, si, w) per template and kind: each set
 * is a candidate for the kinds whose rule it meets (SPEC §10), ranked by value, then the
 * contract's tie-break. The sets are read once (materialized), whatever the kinds.
 */
function bestInto(userId: string, sets: SQL, onConflict: SQL): SQL {
  return sql`WITH c AS MATERIALIZED (${sets}), best AS (
      SELECT c.*, k.kind, ${VALUE} AS value,
        row_number() OVER (PARTITION BY c.tid, k.kind ORDER BY ${VALUE} DESC, c.st, c.ei, c.si, c.w) AS rn
      FROM c CROSS JOIN (SELECT 0 AS kind UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) k
      WHERE ${ELIGIBLE}
    )
    INSERT INTO hevy_prs (user_id, template_id, kind, value, weight_kg, reps, start_time, exercise_index, set_index, workout_id)
    SELECT ${userId}, tid, kind, value, wt, reps, st, ei, si, w FROM best WHERE rn = 1${onConflict}`;
}

/** SPEC §7/§10: a set's estimated 1RM (Epley; the weight itself for one rep), for sets of 1–12 reps with weight. */
export const e1rm = (wt: SQL, reps: SQL) => sql`(CASE WHEN ${reps} = 1 THEN ${wt} ELSE ${wt} * (1 + ${reps} / 30.0) END)`;
export const e1rmEligible = (wt: SQL, reps: SQL) => sql`(${wt} > 0 AND ${reps} >= 1 AND ${reps} <= 12)`;

// SPEC §10: which sets count for each kind (k.kind over c.wt, c.reps), and the value they score.
const ELIGIBLE = sql`CASE k.kind WHEN 0 THEN c.wt > 0 WHEN 1 THEN ${e1rmEligible(sql`c.wt`, sql`c.reps`)}
  WHEN 2 THEN c.reps >= 1 ELSE c.wt > 0 AND c.reps >= 1 END`;
const VALUE = sql`CASE k.kind WHEN 0 THEN c.wt WHEN 1 THEN ${e1rm(sql`c.wt`, sql`c.reps`)}
  WHEN 2 THEN c.reps ELSE c.wt * c.reps END`;
