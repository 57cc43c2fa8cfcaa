import { sql } from "drizzle-orm";
import { workingSet } from "../../db/set-type";
import { userKey } from "../../db/keys";
import type { Deps } from "../../deps";
import type { AuthUser } from "../../env";
import { notFound } from "../../lib/errors";
import { isoUtc } from "../../lib/time";
import { type LocalWeek, mondayWeeks } from "../../lib/zoned-time";
import { type MetricPart, runParts } from "./part";
import { e1rm, e1rmEligible } from "./pr-bests";
import { currentPrs, type PrView } from "./prs";
import { rollupsReady } from "./rollups";

// One exercise's progress (SPEC §13, /hevy/exercises/{template_id}): every session in which the
// user did it, with that session's working sets, heaviest weight, best estimated 1RM (the same
// SQL the PRs use) and volume, and the current PRs kept at write time. Read through the
// exercises-by-template index (hevy_exercises (user_key, exercise_template_id)): one template's
// history, never the user's.

export interface ExerciseSession {
  workout_id: string;
  title: string;
  start_time: string;
  /** Non-warm-up sets of this exercise in the session. */
  sets: number;
  heaviest_kg: number | null;
  best_e1rm_kg: number | null;
  /** Σ weight × reps of those sets. */
  volume_kg: number;
}

export interface ExerciseWeek {
  /** The local Monday. */
  week_start: string;
  /** Non-warm-up sets of the exercise that week. */
  sets: number;
  /** Σ weight × reps of those sets. */
  volume_kg: number;
}

/** Weeks of volume shown: the latest this many, ending with the current one. */
export const VOLUME_WEEKS = 26;

/** The latest sessions shown: a page stays the same size whatever the history (the records cover all of it). */
export const SESSIONS_SHOWN = 200;

export interface ExerciseProgress {
  template_id: string;
  title: string;
  /** The latest SESSIONS_SHOWN sessions with working sets of the exercise, oldest first. */
  sessions: ExerciseSession[];
  prs: PrView[];
  /** The VOLUME_WEEKS local Monday-start weeks ending with the current one, oldest first, one per week even when empty. */
  weeks: ExerciseWeek[];
}

/**
 * One template's sets and volume per local week: the week-and-template rollups
 * (src/services/metrics/rollups.ts) when they are complete in `zone`, one primary-key row per
 * week; else computed from the template's sets inside the weeks (the exercises-by-template index,
 * read once), each set put in its week by the weeks' UTC bounds computed in the Worker. One
 * statement; the branch not taken reads nothing, as in weeklyTrend.
 */
export function templateWeeks(userId: string, zone: string, templateId: string, weeks: LocalWeek[]): MetricPart<ExerciseWeek[]> {
  const bounds = JSON.stringify(weeks.map((w) => ({ week: w.weekStart, from: w.from, to: w.to })));
  return {
    statement: sql`WITH ready AS MATERIALIZED (${rollupsReady(userId, zone)}), template_sets AS MATERIALIZED (
        SELECT w.start_time AS st, s.weight_kg * s.reps AS volume
        FROM ready
        CROSS JOIN hevy_exercises e ON e.user_key = ${userKey(userId)} AND e.exercise_template_id = ${templateId}
        CROSS JOIN hevy_workouts w ON w.key = e.workout_key
        CROSS JOIN hevy_sets s ON s.workout_key = e.workout_key AND s.exercise_index = e.exercise_index
        WHERE ready.ok = 0 AND w.user_id = ${userId} AND w.deleted_at IS NULL
          AND w.start_time >= ${weeks[0]!.from} AND w.start_time < ${weeks.at(-1)!.to} AND ${sql.raw(workingSet("s.type"))})
      SELECT CAST(b.key AS INTEGER) AS i, coalesce(r.sets, 0) AS sets, coalesce(r.volume_kg, 0) AS volume_kg
      FROM ready CROSS JOIN json_each(${bounds}) b
      LEFT JOIN hevy_week_templates r ON r.user_id = ${userId} AND r.week_start = b.value ->> 'week' AND r.template_id = ${templateId}
      WHERE ready.ok = 1
      UNION ALL
      SELECT CAST(b.key AS INTEGER), count(t.st), total(t.volume)
      FROM ready CROSS JOIN json_each(${bounds}) b
      LEFT JOIN template_sets t ON t.st >= b.value ->> 'from' AND t.st < b.value ->> 'to'
      WHERE ready.ok = 0
      GROUP BY b.key
      ORDER BY 1`,
    read: (rows) =>
      (rows as Array<{ i: number; sets: number; volume_kg: number }>).map((r) => ({ week_start: weeks[r.i]!.weekStart, sets: r.sets, volume_kg: r.volume_kg })),
  };
}

export async function getExerciseProgress(
  deps: Pick<Deps, "d1" | "now">, user: Pick<AuthUser, "id" | "timezone">, templateId: string,
): Promise<ExerciseProgress> {
  const userId = user.id;
  const [sessions, prs, title, weeks] = await runParts(deps.d1, [
    {
      statement: sql`SELECT w.id AS workout_id, w.title, w.start_time,
          count(s.set_index) AS sets, max(CASE WHEN s.weight_kg > 0 THEN s.weight_kg END) AS heaviest_kg,
          max(CASE WHEN ${e1rmEligible(sql`s.weight_kg`, sql`s.reps`)} THEN ${e1rm(sql`s.weight_kg`, sql`s.reps`)} END) AS best_e1rm_kg,
          total(s.weight_kg * s.reps) AS volume_kg
        FROM hevy_exercises e
        CROSS JOIN hevy_workouts w ON w.key = e.workout_key
        LEFT JOIN hevy_sets s ON s.workout_key = e.workout_key AND s.exercise_index = e.exercise_index AND ${sql.raw(workingSet("s.type"))}
        WHERE e.user_key = ${userKey(userId)} AND e.exercise_template_id = ${templateId} AND w.user_id = ${userId} AND w.deleted_at IS NULL
        GROUP BY w.key HAVING count(s.set_index) > 0 ORDER BY w.start_time DESC, w.id DESC LIMIT ${SESSIONS_SHOWN}`,
      read: (rows: unknown[]) =>
        (rows as Array<Omit<ExerciseSession, "start_time"> & { start_time: number }>).map((r) => ({ ...r, start_time: isoUtc(r.start_time) })).reverse(),
    },
    currentPrs(userId, templateId),
    {
      // The user's custom template, else the built-in, else the title the exercise was logged with.
      statement: sql`SELECT coalesce(
          (SELECT title FROM hevy_exercise_templates WHERE user_id = ${userId} AND id = ${templateId}),
          (SELECT title FROM hevy_exercise_templates WHERE user_id = '' AND id = ${templateId}),
          (SELECT e.title FROM hevy_exercises e CROSS JOIN hevy_workouts w ON w.key = e.workout_key
            WHERE e.user_key = ${userKey(userId)} AND e.exercise_template_id = ${templateId} AND w.user_id = ${userId} AND w.deleted_at IS NULL
            ORDER BY w.start_time DESC LIMIT 1)) AS title`,
      read: (rows: unknown[]) => ((rows[0] as { title: string | null } | undefined)?.title ?? null),
    },
    templateWeeks(userId, user.timezone, templateId, mondayWeeks(deps.now(), user.timezone, VOLUME_WEEKS)),
  ] as const);
  if (sessions.length === 0) throw notFound("You have not logged this exercise.");
  return { template_id: templateId, title: title ?? templateId, sessions, prs, weeks };
}
