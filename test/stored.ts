import { decodeSetType } from "../src/db/set-type";
import type { HevyWorkout } from "./fakes/hevy";
import { dbOf } from "./helpers";

/** A workout reduced to what storage must keep, in Hevy's field names, instants as epoch ms. */
export interface Comparable {
  id: string;
  title: string;
  routine_id: string | null;
  description: string | null;
  start: number;
  end: number;
  updated: number;
  created: number | null;
  exercises: Array<{
    index: number;
    title: string;
    notes: string | null;
    exercise_template_id: string | null;
    supersets_id: number | null;
    sets: Array<{
      index: number;
      type: string;
      weight_kg: number | null;
      reps: number | null;
      distance_meters: number | null;
      duration_seconds: number | null;
      rpe: number | null;
      custom_metric: number | null;
    }>;
  }>;
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The fake's truth, comparable. */
export function truth(workouts: HevyWorkout[]): Comparable[] {
  return workouts
    .map((w) => ({
      id: w.id,
      title: w.title,
      routine_id: w.routine_id,
      description: w.description,
      start: Date.parse(w.start_time),
      end: Date.parse(w.end_time),
      updated: Date.parse(w.updated_at),
      created: Date.parse(w.created_at),
      exercises: w.exercises.map((e) => ({
        index: e.index,
        title: e.title,
        notes: e.notes,
        exercise_template_id: e.exercise_template_id,
        supersets_id: e.supersets_id,
        sets: e.sets.map((s) => ({ ...s })),
      })),
    }))
    .sort(byId);
}

/**
 * SQL for one user's rows of a Hevy table (bind the user id as ?1). Exercises and sets are owned
 * through their workout's key; they come with the workout's Hevy id as `workout_id`.
 */
export function rowsOf(table: string): string {
  const owned = (columns: string, from: string) =>
    `(SELECT w.user_id, w.id AS workout_id, ${columns} FROM ${from} c JOIN hevy_workouts w ON w.key = c.workout_key WHERE w.user_id = ?1)`;
  if (table === "hevy_exercises") return owned("c.exercise_index, c.title, c.notes, c.exercise_template_id, c.superset_id", table);
  if (table === "hevy_sets") {
    // A set's type as Hevy named it (stored as a code: src/db/set-type.ts).
    return owned(`c.exercise_index, c.set_index, ${decodeSetType("c.type")} AS type, c.weight_kg, c.reps, c.distance_meters,
      c.duration_seconds, c.rpe, c.custom_metric`, table);
  }
  return `(SELECT * FROM ${table} WHERE user_id = ?1)`;
}

/** What D1 holds for a user (live workouts only), read straight from the tables. */
export async function stored(userId: string): Promise<Comparable[]> {
  const db = await dbOf(userId);
  const q = <T>(sql: string) => db.prepare(sql).bind(userId).all<T>().then((r) => r.results);
  const workouts = await q<Record<string, any>>(
    "SELECT * FROM hevy_workouts WHERE user_id = ? AND deleted_at IS NULL",
  );
  const exercises = await q<Record<string, any>>(
    `SELECT * FROM ${rowsOf("hevy_exercises")} ORDER BY workout_id, exercise_index`,
  );
  const sets = await q<Record<string, any>>(
    `SELECT * FROM ${rowsOf("hevy_sets")} ORDER BY workout_id, exercise_index, set_index`,
  );
  return workouts
    .map((w) => ({
      id: w.id,
      title: w.title,
      routine_id: w.routine_id,
      description: w.description,
      start: w.start_time,
      end: w.end_time,
      updated: w.hevy_updated_at,
      created: w.hevy_created_at,
      exercises: exercises
        .filter((e) => e.workout_id === w.id)
        .map((e) => ({
          index: e.exercise_index,
          title: e.title,
          notes: e.notes,
          exercise_template_id: e.exercise_template_id,
          supersets_id: e.superset_id,
          sets: sets
            .filter((s) => s.workout_id === w.id && s.exercise_index === e.exercise_index)
            .map((s) => ({
              index: s.set_index,
              type: s.type,
              weight_kg: s.weight_kg,
              reps: s.reps,
              distance_meters: s.distance_meters,
              duration_seconds: s.duration_seconds,
              rpe: s.rpe,
              custom_metric: s.custom_metric,
            })),
        })),
    }))
    .sort(byId);
}
