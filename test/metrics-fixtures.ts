// Small hand-written Hevy histories for the metrics tests, stored through the
// same write path the sync uses (upsertWorkoutsStatements / deleteWorkoutsStatements).
import { expect } from "vitest";
import { createApp } from "../src/app";
import { runBatch } from "../src/db/batch";
import type { Workout, SetType } from "../src/hevy/types";
import { deleteWorkoutsStatements, upsertWorkoutsStatements } from "../src/services/sync/store";
import { rollupOwner } from "../src/services/metrics/rollups";
import { callWorker, dataDbs, dbOf, type TestContext, type TestUser } from "./helpers";

/** [type, weight_kg, reps] */
export type SetSpec = [SetType, number | null, number | null];
export interface ExerciseSpec {
  template: string | null;
  title: string;
  sets: SetSpec[];
}

export const MINUTE = 60_000;

/** A workout starting at `start` (ISO), lasting `minutes`, Hevy-updated when it ended (or at `updatedAt`). */
export function workout(id: string, start: string, minutes: number, exercises: ExerciseSpec[], updatedAt?: number): Workout {
  const startTime = Date.parse(start);
  const endTime = startTime + minutes * MINUTE;
  return {
    id, title: `Workout ${id}`, description: null, routineId: null, startTime, endTime,
    updatedAt: updatedAt ?? endTime, createdAt: endTime,
    exercises: exercises.map((e, index) => ({
      index, title: e.title, notes: null, exerciseTemplateId: e.template, supersetId: null,
      sets: e.sets.map(([type, weightKg, reps], i) => ({
        index: i, type, weightKg, reps, distanceMeters: null, durationSeconds: null, rpe: null, customMetric: null,
      })),
    })),
  };
}

export async function store(userId: string, workouts: Workout[]): Promise<void> {
  const db = await dbOf(userId);
  await runBatch(db, upsertWorkoutsStatements(await rollupOwner(db, userId), workouts, Date.now()));
}

export async function remove(userId: string, id: string, deletedAt: number): Promise<void> {
  const db = await dbOf(userId);
  await runBatch(db, deleteWorkoutsStatements(await rollupOwner(db, userId), [{ id, deletedAt }], Date.now()));
}

/**
 * A template row: owner '' is a built-in shared by everyone (in every database: each shard keeps
 * the built-ins its users' syncs bring), a user id a custom one (in that user's database).
 */
export async function template(owner: string, id: string, title: string, primary: string, secondary: string[]): Promise<void> {
  for (const db of owner === "" ? dataDbs() : [await dbOf(owner)]) {
    await db.prepare(
      `INSERT INTO hevy_exercise_templates (user_id, id, title, type, primary_muscle_group, secondary_muscle_groups, equipment_category, is_custom, synced_at)
       VALUES (?, ?, ?, 'weight_reps', ?, ?, 'barbell', ?, 0)`,
    ).bind(owner, id, title, primary, JSON.stringify(secondary), owner === "" ? 0 : 1).run();
  }
}

export async function recovery(userId: string, source: "whoop" | "oura", readings: Record<string, number>): Promise<void> {
  for (const [date, score] of Object.entries(readings)) {
    await (await dbOf(userId)).prepare("INSERT INTO daily_recovery (user_id, source, date, score, received_at) VALUES (?, ?, ?, ?, 0)")
      .bind(userId, source, date, score).run();
  }
}

/** Template ids unique to this run: built-ins are shared by every user in the database. */
export const uniqueId = (name: string) => `${name}-${crypto.randomUUID().slice(0, 8)}`;

/** GET `path` as `user` with the clock at `now` (the app's deps.now). */
export async function getAt<T>(t: TestContext, user: TestUser, path: string, now: string, status = 200): Promise<T> {
  const res = await callWorker(t.env, path, { token: user.token, app: createApp({ deps: { now: () => Date.parse(now) } }) });
  const body = await res.text();
  expect(res.status, body).toBe(status);
  return JSON.parse(body) as T;
}

export interface Pr {
  exercise_template_id: string;
  exercise_title: string;
  kind: "heaviest_weight" | "best_e1rm" | "most_reps" | "best_set_volume";
  value: number;
  weight_kg: number | null;
  reps: number | null;
  workout_id: string;
  achieved_at: string;
}

export interface SummaryBody {
  weeks: Array<{ week_start: string; workouts: number; sets: number; volume_kg: number }>;
  totals: { workouts: number; sets: number; volume_kg: number };
  prs: Pr[];
  recent_prs: Pr[];
  muscle_groups: Array<{ muscle_group: string; sets: number; volume_kg: number }>;
  recent_sessions: Array<{ id: string; title: string; start_time: string; duration_seconds: number; volume_kg: number; set_count: number }>;
  latest_session_recovery: {
    workout_id: string;
    start_time: string;
    whoop_recovery: { date: string; score: number; avg_30d: number | null } | null;
    oura_readiness: { date: string; score: number; avg_30d: number | null } | null;
  } | null;
}
