import { sql } from "drizzle-orm";
import { runBatch } from "../db/batch";
import type { OtherSource } from "../db/schema";
import type { Deps } from "../deps";
import { notFound } from "../lib/errors";
import { rematchStatement } from "./unified-match";

// Other sources' workouts and daily recovery scores, pushed by VitalTrends
// (PUT /api/v1/sources/{source}/workouts, PUT /api/v1/recovery/{source}).
// A batch is one D1 batch: one statement over a JSON array bound as a single
// parameter (so D1's 100-parameter limit never applies), plus for Apple Health the
// re-pairing with Hevy workouts — all or nothing.

export const MAX_BATCH_ITEMS = 500;

export interface SourceWorkoutInput {
  external_id: string;
  activity_type: string;
  /** epoch ms */
  start_time: number;
  end_time: number;
  title?: string | null;
  calories_kcal?: number | null;
  avg_hr_bpm?: number | null;
  max_hr_bpm?: number | null;
}

export interface RecoveryInput {
  /** YYYY-MM-DD, the wake-up day in the user's zone. */
  date: string;
  score: number;
}

type WriteDeps = Pick<Deps, "d1" | "now">;

/** Upserts on (source, external_id): every field is replaced, absent optional ones become null. */
export async function upsertSourceWorkouts(
  deps: WriteDeps,
  userId: string,
  source: OtherSource,
  items: readonly SourceWorkoutInput[],
): Promise<number> {
  if (items.length === 0) return 0;
  const rows = JSON.stringify(
    items.map((i) => ({
      external_id: i.external_id, activity_type: i.activity_type, start_time: i.start_time, end_time: i.end_time,
      title: i.title ?? null, calories_kcal: i.calories_kcal ?? null, avg_hr_bpm: i.avg_hr_bpm ?? null, max_hr_bpm: i.max_hr_bpm ?? null,
    })),
  );
  const upsert = sql`INSERT INTO source_workouts (user_id, source, external_id, activity_type, start_time, end_time, title,
      calories_kcal, avg_hr_bpm, max_hr_bpm, received_at)
    SELECT ${userId}, ${source}, j.value ->> 'external_id', j.value ->> 'activity_type', j.value ->> 'start_time',
      j.value ->> 'end_time', j.value ->> 'title', j.value ->> 'calories_kcal', j.value ->> 'avg_hr_bpm', j.value ->> 'max_hr_bpm', ${deps.now()}
    FROM json_each(${rows}) j WHERE true
    ON CONFLICT (user_id, source, external_id) DO UPDATE SET
      activity_type = excluded.activity_type, start_time = excluded.start_time, end_time = excluded.end_time,
      title = excluded.title, calories_kcal = excluded.calories_kcal, avg_hr_bpm = excluded.avg_hr_bpm,
      max_hr_bpm = excluded.max_hr_bpm, received_at = excluded.received_at`;
  await runBatch(deps.d1, [
    upsert,
    ...(source === "apple_health" ? [rematchStatement(userId, { appleIds: items.map((i) => i.external_id) })] : []),
  ]);
  return items.length;
}

/** Deletes one other-source workout; an Apple Health one frees its Hevy partner first. 404 when unknown. */
export async function deleteSourceWorkout(deps: WriteDeps, userId: string, source: OtherSource, externalId: string): Promise<void> {
  const remove = sql`DELETE FROM source_workouts WHERE user_id = ${userId} AND source = ${source} AND external_id = ${externalId}`;
  const results = await runBatch(deps.d1, [
    ...(source === "apple_health" ? [rematchStatement(userId, { appleIds: [externalId], removedAppleIds: [externalId] })] : []),
    remove,
  ]);
  if ((results.at(-1)?.meta.changes ?? 0) === 0) throw notFound(`No ${source} workout with this external_id.`);
}

/** Upserts daily scores on (source, date). */
export async function upsertRecovery(deps: WriteDeps, userId: string, source: "whoop" | "oura", items: readonly RecoveryInput[]): Promise<number> {
  if (items.length === 0) return 0;
  await runBatch(deps.d1, [
    sql`INSERT INTO daily_recovery (user_id, source, date, score, received_at)
      SELECT ${userId}, ${source}, j.value ->> 'date', j.value ->> 'score', ${deps.now()}
      FROM json_each(${JSON.stringify(items.map((i) => ({ date: i.date, score: i.score })))}) j WHERE true
      ON CONFLICT (user_id, source, date) DO UPDATE SET score = excluded.score, received_at = excluded.received_at`,
  ]);
  return items.length;
}
