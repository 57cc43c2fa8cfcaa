import { type SQL, sql } from "drizzle-orm";
import type { Workout } from "../../hevy/types";

// Current all-time PRs kept at write time (table hevy_prs, SPEC §7/§10/§12), in the same
// D1 batch as every workout write and delete (src/services/sync/store.ts):
//
// - A write can only raise a PR with its new sets: each eligible set of a workout this batch
//   stored is offered to hevy_prs as a candidate for every kind whose rule it meets, and
//   replaces the current PR when its value is higher, or equal and its set earlier (workout
//   start, exercise index, set index — the contract's tie-break — then the smaller workout id).
// - A write or delete can only lower a PR held by the old version of a workout: before the old
//   sets go, the templates of the PRs such workouts held are marked (hevy_pr_dirty); once the new
//   sets are in, those templates' PRs are recomputed from their sets alone (an index range on
//   exercises by template), then the marks are cleared. Rare — only a PR-holding workout edited
//   or deleted — and bounded by one template's history, never the user's.
//
// Every statement carries the writer's guard (the job scope), like the rest of the batch.

/** Marks the templates whose PRs `workouts` (already re-versioned or tombstoned in this batch) held. Run before their old sets are deleted. */
export function markPrsOf(userId: string, workouts: SQL, guard: SQL): SQL {
  return sql`INSERT OR IGNORE INTO hevy_pr_dirty (user_id, template_id)
    SELECT p.user_id, p.template_id FROM hevy_prs p WHERE p.user_id = ${userId} AND p.workout_id IN ${workouts} AND ${guard}`;
}

/** Recomputes the marked templates' PRs from their stored sets, then clears the marks. Run after the new sets are in. */
export function recomputeMarkedPrs(userId: string, guard: SQL): SQL[] {
  const marked = sql`(SELECT d.template_id FROM hevy_pr_dirty d WHERE d.user_id = ${userId})`;
  return [
    sql`DELETE FROM hevy_prs WHERE user_id = ${userId} AND template_id IN ${marked} AND ${guard}`,
    sql`INSERT INTO hevy_prs (user_id, template_id, kind, value, weight_kg, reps, start_time, exercise_index, set_index, workout_id)
      ${markedPrWinners(userId, guard)}`,
    sql`DELETE FROM hevy_pr_dirty WHERE user_id = ${userId}`,
  ];
}

/** Offers every eligible set of `workouts` (only those this batch stored: `stored`) as a PR candidate. */
export function offerPrCandidates(userId: string, workouts: Workout[], stored: SQL, guard: SQL): SQL {
  const candidates = workouts.flatMap((w) =>
    w.exercises.flatMap((e) =>
      e.exerciseTemplateId === null
        ? []
        : e.sets
            .filter((s) => s.type !== "warmup" && ((s.weightKg ?? 0) > 0 || (s.reps ?? 0) >= 1))
            .map((s) => ({ w: w.id, tid: e.exerciseTemplateId, wt: s.weightKg, reps: s.reps, st: w.startTime, ei: e.index, si: s.index })),
    ),
  );
  // The stored workouts' sets read out of the JSON once, then the best per template and kind
  // (a few dozen rows), then one upsert each.
  return sql`WITH c AS MATERIALIZED (
      SELECT j.value ->> 'w' AS w, j.value ->> 'tid' AS tid, j.value ->> 'wt' AS wt, j.value ->> 'reps' AS reps,
        j.value ->> 'st' AS st, j.value ->> 'ei' AS ei, j.value ->> 'si' AS si
      FROM json_each(${JSON.stringify(candidates)}) j WHERE j.value ->> 'w' IN ${stored} AND ${guard}
    ), best AS (
      SELECT c.*, k.kind, ${VALUE} AS value,
        row_number() OVER (PARTITION BY c.tid, k.kind ORDER BY ${VALUE} DESC, c.st, c.ei, c.si, c.w) AS rn
      FROM c CROSS JOIN (SELECT 0 AS kind UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) k
      WHERE ${ELIGIBLE}
    )
    INSERT INTO hevy_prs (user_id, template_id, kind, value, weight_kg, reps, start_time, exercise_index, set_index, workout_id)
    SELECT ${userId}, tid, kind, value, wt, reps, st, ei, si, w FROM best WHERE rn = 1
    ON CONFLICT (user_id, template_id, kind) DO UPDATE SET value = excluded.value, weight_kg = excluded.weight_kg,
      reps = excluded.reps, start_time = excluded.start_time, exercise_index = excluded.exercise_index,
      set_index = excluded.set_index, workout_id = excluded.workout_id
    WHERE excluded.value > hevy_prs.value OR (excluded.value = hevy_prs.value
      AND (excluded.start_time, excluded.exercise_index, excluded.set_index, excluded.workout_id)
        < (hevy_prs.start_time, hevy_prs.exercise_index, hevy_prs.set_index, hevy_prs.workout_id))`;
}

// SPEC §10: which sets count for each kind (k.kind over c.wt, c.reps), and the value they score.
const ELIGIBLE = sql`CASE k.kind WHEN 0 THEN c.wt > 0 WHEN 1 THEN c.wt > 0 AND c.reps >= 1 AND c.reps <= 12
  WHEN 2 THEN c.reps >= 1 ELSE c.wt > 0 AND c.reps >= 1 END`;
const VALUE = sql`CASE k.kind WHEN 0 THEN c.wt WHEN 1 THEN (CASE WHEN c.reps = 1 THEN c.wt ELSE c.wt * (1 + c.reps / 30.0) END)
  WHEN 2 THEN c.reps ELSE c.wt * c.reps END`;

/**
 * SELECT of the PR winners of one user's marked templates (hevy_pr_dirty) from the stored sets:
 * rows (user, template, kind, value, weight, reps, start, exercise index, set index, workout).
 * The marks drive the join (CROSS JOIN fixes SQLite's order), so an empty mark list — most
 * batches — reads nothing, and a marked template reads that template's exercises by index. Non-warm-up sets are grouped by (template,
 * weight, reps), keeping each group's earliest set as one integer key start·10⁶ + exercise
 * index·10³ + set index (the tie-break order; indices stay below 1000) — a few thousand groups
 * however many sets — then each group is a candidate for the kinds whose rule it meets, the
 * best value wins per template and kind, the smallest key on a tie, and on a tie of both (sets at
 * the same place of workouts sharing a start) the smallest workout id.
 */
function markedPrWinners(userId: string, where: SQL): SQL {
  return sql`WITH combos AS MATERIALIZED (
      SELECT e.exercise_template_id AS tid, s.weight_kg AS wt, s.reps AS reps,
        min(CAST(w.start_time AS INTEGER) * 1000000 + s.exercise_index * 1000 + s.set_index) AS k
      FROM hevy_pr_dirty d
      CROSS JOIN hevy_exercises e ON e.user_id = d.user_id AND e.exercise_template_id = d.template_id
      CROSS JOIN hevy_workouts w ON w.user_id = e.user_id AND w.id = e.workout_id
      CROSS JOIN hevy_sets s ON s.user_id = e.user_id AND s.workout_id = e.workout_id AND s.exercise_index = e.exercise_index
      WHERE d.user_id = ${userId} AND w.deleted_at IS NULL
        AND s.type <> 'warmup' AND (s.weight_kg > 0 OR s.reps >= 1)
      GROUP BY 1, 2, 3
    ), candidates AS (
      SELECT k.kind, ${VALUE} AS value, c.* FROM combos c
        CROSS JOIN (SELECT 0 AS kind UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) k
      WHERE ${ELIGIBLE}
    ), ranked AS (
      SELECT *, rank() OVER (PARTITION BY tid, kind ORDER BY value DESC, k) AS rn FROM candidates
    ), tops AS (
      -- The best value's earliest set, in every workout that has one there (workouts sharing a start).
      SELECT r.*, (SELECT min(w.id) FROM hevy_workouts w
          JOIN hevy_exercises e ON e.user_id = w.user_id AND e.workout_id = w.id AND e.exercise_index = (r.k / 1000) % 1000
          JOIN hevy_sets s ON s.user_id = e.user_id AND s.workout_id = e.workout_id AND s.exercise_index = e.exercise_index
            AND s.set_index = r.k % 1000
          WHERE w.user_id = ${userId} AND w.start_time = r.k / 1000000 AND w.deleted_at IS NULL
            AND e.exercise_template_id = r.tid AND s.type <> 'warmup' AND s.weight_kg IS r.wt AND s.reps IS r.reps) AS wid
      FROM ranked r WHERE rn = 1
    ), winners AS (
      SELECT *, row_number() OVER (PARTITION BY tid, kind ORDER BY wid) AS wn FROM tops
    )
    SELECT ${userId}, x.tid, x.kind, x.value, x.wt, x.reps, x.k / 1000000, (x.k / 1000) % 1000, x.k % 1000, x.wid
    FROM winners x WHERE wn = 1 AND ${where}`;
}
