import type { Workout } from "../src/hevy/types";

// From-scratch recomputations of the metrics, written for the tests only, in plain code and
// independently of the SQL under test (test/metrics-maintained.test.ts, test/migrations.test.ts).

const KINDS = ["heaviest_weight", "best_e1rm", "most_reps", "best_set_volume"] as const;

/** What the store keeps of one workout id: Hevy's version, a tombstone, and the live copy. */
export interface Row { version: number; deletedAt: number | null; workout: Workout | null }

/** SPEC §10's PR rules over the live workouts, the plain way: every eligible set, best value, earliest set. */
export function expectedPrs(rows: Map<string, Row>) {
  type Cand = { tid: string; kind: number; value: number; wt: number | null; reps: number | null; st: number; ei: number; si: number; w: string };
  const best = new Map<string, Cand>();
  const earlier = (a: Cand, b: Cand) =>
    a.st !== b.st ? a.st < b.st : a.ei !== b.ei ? a.ei < b.ei : a.si !== b.si ? a.si < b.si : a.w < b.w;
  for (const { workout } of rows.values()) {
    if (!workout) continue;
    for (const e of workout.exercises) {
      if (e.exerciseTemplateId === null) continue;
      for (const s of e.sets) {
        if (s.type === "warmup") continue;
        const wt = s.weightKg ?? 0;
        const reps = s.reps ?? 0;
        const values: Array<number | null> = [
          wt > 0 ? wt : null,
          wt > 0 && reps >= 1 && reps <= 12 ? (reps === 1 ? wt : wt * (1 + reps / 30)) : null,
          reps >= 1 ? reps : null,
          wt > 0 && reps >= 1 ? wt * reps : null,
        ];
        values.forEach((value, kind) => {
          if (value === null) return;
          const c: Cand = { tid: e.exerciseTemplateId!, kind, value, wt: s.weightKg, reps: s.reps, st: workout.startTime, ei: e.index, si: s.index, w: workout.id };
          const key = `${c.tid}|${kind}`;
          const held = best.get(key);
          if (!held || c.value > held.value || (c.value === held.value && earlier(c, held))) best.set(key, c);
        });
      }
    }
  }
  return [...best.values()]
    .map((c) => ({
      exercise_template_id: c.tid, kind: KINDS[c.kind], value: c.value, weight_kg: c.wt, reps: c.reps,
      workout_id: c.w, achieved_at: new Date(c.st).toISOString().replace(".000Z", "Z"),
    }))
    .sort((a, b) => (a.exercise_template_id + a.kind < b.exercise_template_id + b.kind ? -1 : 1));
}

