import { csvRecord, numberCell, textCell } from "../lib/csv";
import { decodeSetType } from "../db/set-type";
import { isoUtc } from "../lib/time";

// The rows of the per-set CSV export (SPEC §8, §10 "Export CSV"): one per set of
// every live workout in range, read from D1 in keyset pages.

export const EXPORT_COLUMNS = [
  "workout_id", "workout_title", "start_time", "end_time", "duration_seconds", "exercise_index", "exercise_title",
  "exercise_template_id", "superset_id", "exercise_notes", "set_index", "set_type", "weight_kg", "reps",
  "distance_meters", "duration_seconds_set", "rpe", "custom_metric", "workout_updated_at",
] as const;

export const EXPORT_HEADER = csvRecord(EXPORT_COLUMNS);

/** One set with its exercise and workout, as the page query returns it. */
export interface SetRow {
  workout_id: string;
  workout_title: string;
  start_time: number;
  end_time: number;
  exercise_index: number;
  exercise_title: string;
  exercise_template_id: string | null;
  superset_id: number | null;
  exercise_notes: string | null;
  set_index: number;
  set_type: string;
  weight_kg: number | null;
  reps: number | null;
  distance_meters: number | null;
  duration_seconds: number | null;
  rpe: number | null;
  custom_metric: number | null;
  workout_updated_at: number;
}

/** The next `limit` rows after `after` (null: from the first), in export order. */
export type RowPager = (after: SetRow | null, limit: number) => Promise<SetRow[]>;

export interface ExportRange {
  /** Inclusive, epoch ms on start_time. */
  from: number | null;
  /** Exclusive, epoch ms on start_time. */
  to: number | null;
}

/**
 * Keyset pages over (start_time, workout id, exercise index, set index). The join
 * order is forced (CROSS JOIN): workouts walk the (user_id, start_time, id) index
 * from the cursor on, and each workout's sets and exercise come from primary-key
 * probes, so a page costs what it returns, never the rows before it. The sort
 * left for SQLite is within one workout's sets.
 */
export function d1SetRows(d1: D1Database, userId: string, range: ExportRange): RowPager {
  return async (after, limit) => {
    const where = ["w.user_id = ?", "w.deleted_at IS NULL"];
    const params: unknown[] = [userId];
    if (range.from !== null) {
      where.push("w.start_time >= ?");
      params.push(range.from);
    }
    if (range.to !== null) {
      where.push("w.start_time < ?");
      params.push(range.to);
    }
    if (after) {
      // The first condition only lets SQLite start the index range at the cursor.
      where.push("w.start_time >= ?", "(w.start_time, w.id, s.exercise_index, s.set_index) > (?, ?, ?, ?)");
      params.push(after.start_time, after.start_time, after.workout_id, after.exercise_index, after.set_index);
    }
    params.push(limit);
    const { results } = await d1
      .prepare(
        `SELECT w.id AS workout_id, w.title AS workout_title, w.start_time, w.end_time,
            s.exercise_index, e.title AS exercise_title, e.exercise_template_id, e.superset_id, e.notes AS exercise_notes,
            s.set_index, ${decodeSetType("s.type")} AS set_type, s.weight_kg, s.reps, s.distance_meters, s.duration_seconds, s.rpe,
            s.custom_metric, w.hevy_updated_at AS workout_updated_at
          FROM hevy_workouts w
          CROSS JOIN hevy_sets s
          CROSS JOIN hevy_exercises e
          WHERE ${where.join(" AND ")}
            AND s.workout_key = w.key
            AND e.workout_key = s.workout_key AND e.exercise_index = s.exercise_index
          ORDER BY w.start_time, w.id, s.exercise_index, s.set_index
          LIMIT ?`,
      )
      .bind(...params)
      .all<SetRow>();
    return results;
  };
}

/**
 * Formats records. Consecutive sets share their workout's and exercise's cells,
 * so those are formatted once per workout / exercise (the timestamps especially).
 */
export function setRecords(): (r: SetRow) => string {
  let workoutKey: SetRow | null = null;
  let workoutHead = "";
  let workoutTail = "";
  let exerciseKey: SetRow | null = null;
  let exerciseCells = "";
  return (r) => {
    if (!workoutKey || workoutKey.workout_id !== r.workout_id || workoutKey.start_time !== r.start_time) {
      workoutKey = r;
      exerciseKey = null;
      workoutHead = [
        textCell(r.workout_id),
        textCell(r.workout_title),
        isoUtc(r.start_time),
        isoUtc(r.end_time),
        // As the workouts API reports it.
        numberCell(Math.round((r.end_time - r.start_time) / 1000)),
      ].join(",");
      workoutTail = isoUtc(r.workout_updated_at);
    }
    if (!exerciseKey || exerciseKey.exercise_index !== r.exercise_index) {
      exerciseKey = r;
      exerciseCells = [
        numberCell(r.exercise_index),
        textCell(r.exercise_title),
        textCell(r.exercise_template_id),
        numberCell(r.superset_id),
        textCell(r.exercise_notes),
      ].join(",");
    }
    return csvRecord([
      workoutHead,
      exerciseCells,
      numberCell(r.set_index),
      textCell(r.set_type),
      numberCell(r.weight_kg),
      numberCell(r.reps),
      numberCell(r.distance_meters),
      numberCell(r.duration_seconds),
      numberCell(r.rpe),
      numberCell(r.custom_metric),
      workoutTail,
    ]);
  };
}
