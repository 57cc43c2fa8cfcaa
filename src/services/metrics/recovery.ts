import { sql } from "drizzle-orm";
import { isoUtc } from "../../lib/time";
import { addDays, localDate, localDateTime } from "../../lib/zoned-time";
import type { MetricPart } from "./part";

export interface ReadingView {
  /** The wake-up day, "YYYY-MM-DD" in the user's zone. */
  date: string;
  score: number;
  /** Mean of the readings on the 30 days before `date`, to one decimal; null without any. */
  avg_30d: number | null;
}

export interface LatestSessionRecovery {
  workout_id: string;
  start_time: string;
  whoop_recovery: ReadingView | null;
  oura_readiness: ReadingView | null;
}

const WAKE_HOUR = 4;

/** The morning after a session: the next local day, or the same one when it ended before 04:00. */
export function wakeUpDay(endTime: number, zone: string): string {
  const date = localDate(endTime, zone);
  return localDateTime(endTime, zone).hour < WAKE_HOUR ? date : addDays(date, 1);
}

interface Row {
  id: string;
  start_time: number;
  end_time: number;
  source: "whoop" | "oura" | null;
  date: string | null;
  score: number | null;
}

/**
 * The latest lift session and the recovery readings around its wake-up day, in
 * one statement: the wake-up day needs the user's zone, which SQLite does not
 * know, so the statement reads every reading within a UTC-date span that surely
 * holds it and the 30 days before (local dates are within a day of UTC dates),
 * and the Worker picks the exact days.
 */
export function latestSessionRecovery(userId: string, zone: string): MetricPart<LatestSessionRecovery | null> {
  return {
    statement: sql`WITH latest AS (
        SELECT id, start_time, end_time FROM hevy_workouts WHERE user_id = ${userId} AND deleted_at IS NULL
        ORDER BY start_time DESC, id DESC LIMIT 1
      )
      SELECT l.id, l.start_time, l.end_time, r.source, r.date, r.score FROM latest l
      LEFT JOIN daily_recovery r ON r.user_id = ${userId} AND r.source IN ('whoop', 'oura')
        AND r.date BETWEEN date(l.end_time / 1000, 'unixepoch', '-32 days') AND date(l.end_time / 1000, 'unixepoch', '+2 days')`,
    read: (raw) => {
      const rows = raw as Row[];
      const latest = rows[0];
      if (!latest) return null;
      const wake = wakeUpDay(latest.end_time, zone);
      const since = addDays(wake, -30);
      const reading = (source: "whoop" | "oura"): ReadingView | null => {
        const mine = rows.filter((r) => r.source === source);
        const today = mine.find((r) => r.date === wake);
        if (!today) return null;
        const before = mine.filter((r) => r.date! >= since && r.date! < wake);
        const sum = before.reduce((acc, r) => acc + r.score!, 0);
        return {
          date: wake,
          score: today.score!,
          avg_30d: before.length === 0 ? null : Math.round((sum * 10) / before.length) / 10,
        };
      };
      return {
        workout_id: latest.id,
        start_time: isoUtc(latest.start_time),
        whoop_recovery: reading("whoop"),
        oura_readiness: reading("oura"),
      };
    },
  };
}
