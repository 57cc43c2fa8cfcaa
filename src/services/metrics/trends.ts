import { sql } from "drizzle-orm";
import type { LocalWeek } from "../../lib/zoned-time";
import type { MetricPart } from "./part";

export interface WeekView {
  week_start: string;
  workouts: number;
  /** Every logged set, warm-ups included. */
  sets: number;
  /** Σ weight × reps over non-warm-up sets. */
  volume_kg: number;
}

export interface Totals {
  workouts: number;
  sets: number;
  volume_kg: number;
}

/**
 * Workouts, sets and volume per local Monday-start week, one row per week even
 * when empty. The weeks' UTC bounds are computed in the Worker (SQLite knows no
 * time zones) and bound as one JSON array; each week is an index range on
 * (user_id, start_time) over the per-workout metrics stored with each workout,
 * so no set is read.
 */
export function weeklyTrend(userId: string, weeks: LocalWeek[]): MetricPart<WeekView[]> {
  const bounds = JSON.stringify(weeks.map((w) => ({ from: w.from, to: w.to })));
  return {
    statement: sql`SELECT CAST(b.key AS INTEGER) AS i, count(w.id) AS workouts,
        coalesce(sum(w.set_count), 0) AS sets, coalesce(sum(w.volume_kg), 0) AS volume_kg
      FROM json_each(${bounds}) b
      LEFT JOIN hevy_workouts w ON w.user_id = ${userId} AND w.deleted_at IS NULL
        AND w.start_time >= b.value ->> 'from' AND w.start_time < b.value ->> 'to'
      GROUP BY b.key ORDER BY CAST(b.key AS INTEGER)`,
    read: (rows) =>
      (rows as Array<{ i: number; workouts: number; sets: number; volume_kg: number }>).map((r) => ({
        week_start: weeks[r.i]!.weekStart,
        workouts: r.workouts,
        sets: r.sets,
        volume_kg: r.volume_kg,
      })),
  };
}

export function totalsOf(weeks: WeekView[]): Totals {
  const totals: Totals = { workouts: 0, sets: 0, volume_kg: 0 };
  for (const w of weeks) {
    totals.workouts += w.workouts;
    totals.sets += w.sets;
    totals.volume_kg += w.volume_kg;
  }
  return totals;
}
