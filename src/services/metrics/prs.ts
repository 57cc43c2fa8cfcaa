import { sql } from "drizzle-orm";
import { isoUtc } from "../../lib/time";
import type { MetricPart } from "./part";

export const PR_KINDS = ["heaviest_weight", "best_e1rm", "most_reps", "best_set_volume"] as const;
export type PrKind = (typeof PR_KINDS)[number];

export interface PrView {
  exercise_template_id: string;
  exercise_title: string;
  kind: PrKind;
  value: number;
  weight_kg: number | null;
  reps: number | null;
  workout_id: string;
  achieved_at: string;
}

interface PrRow {
  tid: string;
  kind: number;
  value: number;
  wt: number | null;
  reps: number | null;
  st: number;
  workout_id: string;
  title: string;
}

/**
 * Current all-time PRs per exercise template, in SQL so no set reaches the Worker.
 *
 * 1. `combos`: the user's non-warm-up sets grouped by (template, weight, reps),
 *    keeping the earliest set of each as one integer key
 *    start_time·10⁶ + exercise index·10³ + set index (ordered exactly as the
 *    contract's tie-break; indices stay below 1000). A history has a few thousand
 *    combos however many sets it holds.
 * 2. Each combo is a candidate for the kinds whose rule it meets; per template and
 *    kind the best value wins, and on a tie the smallest key (the earliest set).
 * 3. Only the winners are joined back to find their workout (the smallest id among
 *    workouts starting at that instant, should two ever share it) and title.
 *
 * Every lookup is by primary key (workout → exercises → sets). The unary `+`
 * keeps SQLite from reading exercises through (user_id, exercise_template_id) for
 * the IS NOT NULL test, and `winners` is materialized so the planner cannot make
 * the user's exercises the outer loop of the last step: either plan would read
 * every exercise of the user once per workout or per winner.
 */
export function currentPrs(userId: string): MetricPart<PrView[]> {
  return {
    statement: sql`WITH combos AS MATERIALIZED (
        SELECT e.exercise_template_id AS tid, s.weight_kg AS wt, s.reps AS reps,
          min(CAST(w.start_time AS INTEGER) * 1000000 + s.exercise_index * 1000 + s.set_index) AS k
        FROM hevy_workouts w
        CROSS JOIN hevy_exercises e ON e.user_id = w.user_id AND e.workout_id = w.id
        CROSS JOIN hevy_sets s ON s.user_id = e.user_id AND s.workout_id = e.workout_id AND s.exercise_index = e.exercise_index
        WHERE w.user_id = ${userId} AND w.deleted_at IS NULL AND +e.exercise_template_id IS NOT NULL
          AND s.type <> 'warmup' AND (s.weight_kg > 0 OR s.reps >= 1)
        GROUP BY 1, 2, 3
      ), candidates AS (
        SELECT 0 AS kind, wt AS value, * FROM combos WHERE wt > 0
        UNION ALL SELECT 1, CASE WHEN reps = 1 THEN wt ELSE wt * (1 + reps / 30.0) END, * FROM combos
          WHERE wt > 0 AND reps >= 1 AND reps <= 12
        UNION ALL SELECT 2, reps, * FROM combos WHERE reps >= 1
        UNION ALL SELECT 3, wt * reps, * FROM combos WHERE wt > 0 AND reps >= 1
      ), ranked AS (
        SELECT *, row_number() OVER (PARTITION BY tid, kind ORDER BY value DESC, k) AS rn FROM candidates
      ), winners AS MATERIALIZED (
        SELECT tid, kind, value, wt, reps, k / 1000000 AS st, (k / 1000) % 1000 AS ei,
          (SELECT min(w.id) FROM hevy_workouts w
            JOIN hevy_exercises e ON e.user_id = w.user_id AND e.workout_id = w.id AND e.exercise_index = (r.k / 1000) % 1000
            JOIN hevy_sets s ON s.user_id = e.user_id AND s.workout_id = e.workout_id AND s.exercise_index = e.exercise_index
              AND s.set_index = r.k % 1000
            WHERE w.user_id = ${userId} AND w.start_time = r.k / 1000000 AND w.deleted_at IS NULL
              AND e.exercise_template_id = r.tid AND s.type <> 'warmup' AND s.weight_kg IS r.wt AND s.reps IS r.reps) AS workout_id
        FROM ranked r WHERE rn = 1
      )
      SELECT x.tid, x.kind, x.value, x.wt, x.reps, x.st, x.workout_id,
        coalesce(cu.title, bi.title, (SELECT e.title FROM hevy_exercises e
          WHERE e.user_id = ${userId} AND e.workout_id = x.workout_id AND e.exercise_index = x.ei)) AS title
      FROM winners x
      LEFT JOIN hevy_exercise_templates cu ON cu.user_id = ${userId} AND cu.id = x.tid
      LEFT JOIN hevy_exercise_templates bi ON bi.user_id = '' AND bi.id = x.tid
      ORDER BY title, x.tid, x.kind`,
    read: (rows) =>
      (rows as PrRow[]).map((r) => ({
        exercise_template_id: r.tid,
        exercise_title: r.title,
        kind: PR_KINDS[r.kind]!,
        value: r.value,
        weight_kg: r.wt,
        reps: r.reps,
        workout_id: r.workout_id,
        achieved_at: isoUtc(r.st),
      })),
  };
}

/** The PRs set inside [from, to), newest first. */
export function prsWithin(prs: PrView[], from: number, to: number): PrView[] {
  return prs
    .filter((p) => {
      const at = Date.parse(p.achieved_at);
      return at >= from && at < to;
    })
    .sort((a, b) => Date.parse(b.achieved_at) - Date.parse(a.achieved_at));
}
