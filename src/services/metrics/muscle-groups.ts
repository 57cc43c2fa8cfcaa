import { type SQL, sql } from "drizzle-orm";
import type { MetricPart } from "./part";
import { rollupsReady, weekOf } from "./rollups";
import { workingSet } from "../../db/set-type";

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
 * How a range splits over the local weeks of `zone`: the whole weeks inside it (`weeks`, by their
 * Mondays: [first, end), either side open when the range is) and the partial weeks at its ends
 * (`edges`, instant ranges). With no whole week inside, the whole range is one edge.
 */
export function splitByWeeks(range: Range, zone: string): { weeks: { first?: string; end?: string } | null; edges: Range[] } {
  // The first whole week starts at or after `from`; the weeks end where the week holding `to` starts.
  const fromWeek = range.from === undefined ? undefined : weekOf(range.from, zone);
  const first = fromWeek && fromWeek.from < range.from! ? weekOf(fromWeek.to, zone) : fromWeek;
  const end = range.to === undefined ? undefined : weekOf(range.to, zone);
  if (first && end && first.from >= end.from) return { weeks: null, edges: [range] };
  const edges: Range[] = [];
  if (first && range.from! < first.from) edges.push({ from: range.from, to: first.from });
  if (end && end.from < range.to!) edges.push({ from: end.from, to: range.to });
  return { weeks: { first: first?.weekStart, end: end?.weekStart }, edges };
}

/**
 * Sets and volume per muscle group over the workouts in `range`, per template first (so each
 * template's groups are looked up once), then spread over the template's primary group (1) and
 * secondary groups (0.5). A user's custom template wins over a built-in one with the same id; an
 * exercise whose template is unknown (or missing) counts under `other`.
 *
 * The per-template numbers come from the week-and-template rollups (src/services/metrics/rollups.ts)
 * for the whole local weeks inside the range, and from the sets of the partial weeks at its ends;
 * when the rollups are not complete in `zone`, from the sets of the whole range. One statement:
 * the branches not taken read nothing (`ready.ok` fails in their outermost loop). Groups are
 * applied when read, so a template whose muscle groups change needs no rebuild.
 */
export function muscleGroups(userId: string, zone: string, range: Range): MetricPart<MuscleGroupView[]> {
  const { weeks, edges } = splitByWeeks(range, zone);
  const scan = (gate: 0 | 1, r: Range) => sql`
    SELECT e.exercise_template_id AS tid, 1 AS sets, s.weight_kg * s.reps AS volume
    FROM ready
    CROSS JOIN hevy_workouts w ON w.user_id = ${userId}
    CROSS JOIN hevy_exercises e ON e.workout_key = w.key
    CROSS JOIN hevy_sets s ON s.workout_key = e.workout_key AND s.exercise_index = e.exercise_index
    WHERE ready.ok = ${gate} AND w.deleted_at IS NULL AND ${sql.raw(workingSet("s.type"))}${bound(r)}`;
  const branches: SQL[] = [scan(0, range)];
  if (weeks) {
    const first = weeks.first === undefined ? sql`` : sql` AND t.week_start >= ${weeks.first}`;
    const end = weeks.end === undefined ? sql`` : sql` AND t.week_start < ${weeks.end}`;
    branches.push(sql`
      SELECT nullif(t.template_id, '') AS tid, t.sets AS sets, t.volume_kg AS volume
      FROM ready CROSS JOIN hevy_week_templates t ON t.user_id = ${userId}
      WHERE ready.ok = 1${first}${end}`);
  }
  for (const edge of edges) branches.push(scan(1, edge));
  return {
    statement: sql`WITH ready AS MATERIALIZED (${rollupsReady(userId, zone)}), per_template AS MATERIALIZED (
        SELECT tid, sum(sets) AS sets, total(volume) AS volume FROM (${sql.join(branches, sql` UNION ALL `)})
        GROUP BY tid
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

function bound(r: Range): SQL {
  const from = r.from === undefined ? sql`` : sql` AND w.start_time >= ${r.from}`;
  const to = r.to === undefined ? sql`` : sql` AND w.start_time < ${r.to}`;
  return sql`${from}${to}`;
}
