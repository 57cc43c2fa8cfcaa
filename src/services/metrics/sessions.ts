import { sql } from "drizzle-orm";
import { isoUtc } from "../../lib/time";
import type { MetricPart } from "./part";

export interface SessionView {
  id: string;
  title: string;
  start_time: string;
  duration_seconds: number;
  volume_kg: number;
  set_count: number;
}

export const RECENT_SESSIONS = 5;

/** The latest workouts, newest first (start_time, then id): a short walk down (user_id, start_time, id). */
export function recentSessions(userId: string, limit = RECENT_SESSIONS): MetricPart<SessionView[]> {
  return {
    statement: sql`SELECT id, title, start_time, end_time, volume_kg, set_count FROM hevy_workouts
      WHERE user_id = ${userId} AND deleted_at IS NULL
      ORDER BY start_time DESC, id DESC LIMIT ${limit}`,
    read: (rows) =>
      (rows as Array<{ id: string; title: string; start_time: number; end_time: number; volume_kg: number; set_count: number }>).map((r) => ({
        id: r.id,
        title: r.title,
        start_time: isoUtc(r.start_time),
        duration_seconds: Math.round((r.end_time - r.start_time) / 1000),
        volume_kg: r.volume_kg,
        set_count: r.set_count,
      })),
  };
}
