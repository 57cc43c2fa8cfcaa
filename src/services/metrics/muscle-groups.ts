import { sql } from "drizzle-orm";
import type { MetricPart } from "./part";

export interface MuscleGroupView {
  muscle_group: string;
  /** Non-warm-up sets; a set counts 1 for its template's primary group, 0.5 for each secondary one. */
  sets: number;
  /** Σ weight × reps of those sets, weighted the same way. */
  volume_kg: number;
}

/** Workouts starting in [from, to) (either bound optional). */
export interface Range {
  from?: number;
  to?: number;
}

/**
 * Sets and volume per muscle group over the workouts in `range`. Aggregated per
 * template first (so each template's groups are looked up once), then spread
 * over the template's primary group (1) and secondary groups (0.5). A user's
 * custom template wins over a built-in one with the same id; an exercise whose
 * template is unknown (or missing) counts under `other`.
 */
export function muscleGroups(userId: string, range: Range): MetricPart<MuscleGroupView[]> {
  const from = range.from === undefined ? sql`` : sql` AND w.start_time >= ${range.from}`;
  const to = range.to === undefined ? sql`` : sql` AND w.start_time < ${range.to}`;
  return {
    statement: sql`WITH per_template AS MATERIALIZED (
        SELECT e.exercise_template_id AS tid, count(*) AS sets, total(s.weight_kg * s.reps) AS volume
        FROM hevy_workouts w
        CROSS JOIN hevy_exercises e ON e.user_id = w.user_id AND e.workout_id = w.id
        CROSS JOIN hevy_sets s ON s.user_id = e.user_id AND s.workout_id = e.workout_id AND s.exercise_index = e.exercise_index
        WHERE w.user_id = ${userId} AND w.deleted_at IS NULL AND s.type <> 'warmup'${from}${to}
        GROUP BY e.exercise_template_id
      ), resolved AS (
        SELECT p.sets, p.volume,
          coalesce(cu.primary_muscle_group, bi.primary_muscle_group, 'other') AS primary_group,
          coalesce(cu.secondary_muscle_groups, bi.secondary_muscle_groups, '[]') AS secondary
        FROM per_template p
        LEFT JOIN hevy_exercise_templates cu ON cu.user_id = ${userId} AND cu.id = p.tid
        LEFT JOIN hevy_exercise_templates bi ON bi.user_id = '' AND bi.id = p.tid AND cu.id IS NULL
      ), spread AS (
        SELECT primary_group AS muscle_group, sets, volume FROM resolved
        UNION ALL
        SELECT g.value, sets * 0.5, volume * 0.5
        FROM resolved, json_each(CASE WHEN json_valid(secondary) THEN secondary ELSE '[]' END) g
        WHERE g.type = 'text' AND g.value <> ''
      )
      SELECT muscle_group, sum(sets) AS sets, sum(volume) AS volume_kg FROM spread
      GROUP BY muscle_group ORDER BY sets DESC, volume_kg DESC, muscle_group`,
    read: (rows) => rows as MuscleGroupView[],
  };
}
