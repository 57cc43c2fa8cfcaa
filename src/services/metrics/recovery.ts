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

type Readings = Map<string, number>;

/** Each source's readings by wake-up day. */
function readingsBySource(rows: Array<{ source: "whoop" | "oura" | null; date: string | null; score: number | null }>): Record<"whoop" | "oura", Readings> {
  const out = { whoop: new Map(), oura: new Map() } as Record<"whoop" | "oura", Readings>;
  for (const r of rows) if (r.source && r.date !== null && r.score !== null) out[r.source].set(r.date, r.score);
  return out;
}

/** The reading of wake-up day `wake` and the mean of the 30 days before it (one decimal), or null without one. */
function readingOn(readings: Readings, wake: string): ReadingView | null {
  const score = readings.get(wake);
  if (score === undefined) return null;
  let sum = 0;
  let count = 0;
  for (let day = addDays(wake, -30); day < wake; day = addDays(day, 1)) {
    const before = readings.get(day);
    if (before !== undefined) (sum += before), count++;
  }
  return { date: wake, score, avg_30d: count === 0 ? null : Math.round((sum * 10) / count) / 10 };
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
      const readings = readingsBySource(rows);
      return {
        workout_id: latest.id,
        start_time: isoUtc(latest.start_time),
        whoop_recovery: readingOn(readings.whoop, wake),
        oura_readiness: readingOn(readings.oura, wake),
      };
    },
  };
}

export interface SessionRecovery {
  workout_id: string;
  title: string;
  start_time: string;
  volume_kg: number;
  whoop_recovery: ReadingView | null;
  oura_readiness: ReadingView | null;
}

/** At most this many sessions of a window (the latest): a page and a response stay bounded. */
export const WINDOW_SESSIONS = 1000;

/**
 * Every lift session starting in [from, to) — at most WINDOW_SESSIONS, the latest — oldest
 * first, each with the next morning's WHOOP recovery and Oura readiness against their 30-day
 * averages. One statement: the sessions and every reading in a UTC-date span that surely
 * holds their wake-up days and the 30 days before, told apart by `kind`.
 */
export function sessionsRecovery(userId: string, zone: string, window: { from: number; to: number }): MetricPart<SessionRecovery[]> {
  const utcDay = (ms: number, days: number) => new Date(ms + days * 86_400_000).toISOString().slice(0, 10);
  return {
    statement: sql`SELECT 'session' AS kind, id, title, start_time, end_time, volume_kg, NULL AS source, NULL AS date, NULL AS score
      FROM (SELECT id, title, start_time, end_time, volume_kg FROM hevy_workouts
        WHERE user_id = ${userId} AND deleted_at IS NULL AND start_time >= ${window.from} AND start_time < ${window.to}
        ORDER BY start_time DESC, id DESC LIMIT ${WINDOW_SESSIONS})
      UNION ALL
      SELECT 'reading', NULL, NULL, NULL, NULL, NULL, source, date, score FROM daily_recovery
      WHERE user_id = ${userId} AND source IN ('whoop', 'oura') AND date BETWEEN ${utcDay(window.from, -32)} AND ${utcDay(window.to, 2)}`,
    read: (raw) => {
      const rows = raw as Array<Row & { kind: "session" | "reading"; title: string; volume_kg: number }>;
      const readings = readingsBySource(rows.filter((r) => r.kind === "reading"));
      return rows
        .filter((r) => r.kind === "session")
        .sort((a, b) => a.start_time - b.start_time || (a.id < b.id ? -1 : 1))
        .map((s) => {
          const wake = wakeUpDay(s.end_time, zone);
          return {
            workout_id: s.id,
            title: s.title,
            start_time: isoUtc(s.start_time),
            volume_kg: s.volume_kg,
            whoop_recovery: readingOn(readings.whoop, wake),
            oura_readiness: readingOn(readings.oura, wake),
          };
        });
    },
  };
}

/** How far a reading sits from its 30-day average (null without a reading or an average). */
export const deltaOf = (r: ReadingView | null): number | null => (r === null || r.avg_30d === null ? null : r.score - r.avg_30d);

/**
 * Over the sessions whose next morning has a reading with a 30-day average: how many, and the
 * mean distance from the average (one decimal) — "after a session you recover N points below usual".
 */
export function morningsAfter(sessions: SessionRecovery[], source: "whoop" | "oura"): { sessions: number; mean_delta: number | null } {
  const deltas = sessions.map((s) => deltaOf(source === "whoop" ? s.whoop_recovery : s.oura_readiness)).filter((d): d is number => d !== null);
  if (deltas.length === 0) return { sessions: 0, mean_delta: null };
  return { sessions: deltas.length, mean_delta: Math.round((deltas.reduce((a, b) => a + b, 0) * 10) / deltas.length) / 10 };
}
