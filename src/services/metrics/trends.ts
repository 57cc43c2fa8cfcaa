import { sql } from "drizzle-orm";
import type { LocalWeek } from "../../lib/zoned-time";
import type { MetricPart } from "./part";
import { rollupsReady } from "./rollups";

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
 * Workouts, sets and volume per local Monday-start week, one row per week even when empty: the
 * weekly rollups' rows (src/services/metrics/rollups.ts) when they are complete in `zone`, else
 * computed from the per-workout metrics stored with each workout — each week an index range on
 * (user_id, start_time) between the week's UTC bounds, computed in the Worker (SQLite knows no
 * time zones) and bound as one JSON array. Both branches are one statement: the one not taken
 * reads nothing (`ready.ok` fails in its outermost loop, before any row is read).
 */
export function weeklyTrend(userId: string, zone: string, weeks: LocalWeek[]): MetricPart<WeekView[]> {
  const bounds = JSON.stringify(weeks.map((w) => ({ week: w.weekStart, from: w.from, to: w.to })));
  return {
    statement: sql`WITH ready AS MATERIALIZED (${rollupsReady(userId, zone)})
      SELECT CAST(b.key AS INTEGER) AS i, coalesce(r.workouts, 0) AS workouts, coalesce(r.sets, 0) AS sets,
        coalesce(r.volume_kg, 0) AS volume_kg
      FROM ready CROSS JOIN json_each(${bounds}) b
      LEFT JOIN hevy_weeks r ON r.user_id = ${userId} AND r.week_start = b.value ->> 'week'
      WHERE ready.ok = 1
      UNION ALL
      SELECT CAST(b.key AS INTEGER), count(w.id), coalesce(sum(w.set_count), 0), coalesce(sum(w.volume_kg), 0)
      FROM ready CROSS JOIN json_each(${bounds}) b
      LEFT JOIN hevy_workouts w ON w.user_id = ${userId} AND w.deleted_at IS NULL
        AND w.start_time >= b.value ->> 'from' AND w.start_time < b.value ->> 'to'
      WHERE ready.ok = 0
      GROUP BY b.key
      ORDER BY 1`,
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
