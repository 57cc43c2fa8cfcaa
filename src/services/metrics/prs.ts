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
 * Current all-time PRs per exercise template: the rows kept at write time
 * (src/services/metrics/pr-bests.ts), one per template and kind, titled by the
 * template (the user's custom one, else the built-in) or else the exercise that set it.
 */
export function currentPrs(userId: string, templateId?: string): MetricPart<PrView[]> {
  const template = templateId === undefined ? sql`` : sql` AND p.template_id = ${templateId}`;
  return {
    statement: sql`SELECT p.template_id AS tid, p.kind, p.value, p.weight_kg AS wt, p.reps, p.start_time AS st, p.workout_id,
        coalesce(cu.title, bi.title, (SELECT e.title FROM hevy_workouts w
          CROSS JOIN hevy_exercises e ON e.workout_key = w.key AND e.exercise_index = p.exercise_index
          WHERE w.user_id = p.user_id AND w.id = p.workout_id)) AS title
      FROM hevy_prs p
      LEFT JOIN hevy_exercise_templates cu ON cu.user_id = p.user_id AND cu.id = p.template_id
      LEFT JOIN hevy_exercise_templates bi ON bi.user_id = '' AND bi.id = p.template_id
      WHERE p.user_id = ${userId}${template}
      ORDER BY title, p.template_id, p.kind`,
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
