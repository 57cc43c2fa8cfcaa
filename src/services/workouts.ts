import { and, desc, eq, gte, isNull, lt, or, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { type Batchable, runBatch } from "../db/batch";
import { workoutKeys } from "../db/keys";
import { hevyWorkouts } from "../db/schema";
import { decodeSetType } from "../db/set-type";
import type { Deps } from "../deps";
import { decodeCursor, encodeCursor } from "../lib/cursor";
import { notFound } from "../lib/errors";
import { isoOrNull, isoUtc } from "../lib/time";
import { PR_KINDS, type PrKind } from "./metrics/prs";
import type { Workout } from "../hevy/types";
import { setVolumeKg, workoutMetrics } from "./sync/metrics";

export interface WorkoutFilters {
  from?: number;
  to?: number;
  updatedSince?: number;
  limit: number;
  cursor?: string;
}

export interface SetView {
  index: number;
  type: string;
  weight_kg: number | null;
  reps: number | null;
  distance_meters: number | null;
  duration_seconds: number | null;
  rpe: number | null;
  custom_metric: number | null;
}

export interface ExerciseView {
  index: number;
  title: string;
  notes: string | null;
  exercise_template_id: string | null;
  superset_id: number | null;
  /** Σ weight × reps of the non-warm-up sets having both: the workout's volume rule, per exercise. */
  volume_kg: number;
  sets: SetView[];
}

export interface WorkoutView {
  id: string;
  title: string;
  description: string | null;
  routine_id: string | null;
  start_time: string;
  end_time: string;
  duration_seconds: number;
  /** Hevy's update time. */
  updated_at: string;
  /** Hevy's creation time. */
  created_at: string | null;
  exercises: ExerciseView[];
  metrics: { volume_kg: number; set_count: number; exercise_count: number };
}

/** The Apple Health workout merged into a Hevy one (SPEC §7): what Hevy does not record. */
export interface LinkedHealth {
  calories_kcal: number | null;
  avg_hr_bpm: number | null;
  max_hr_bpm: number | null;
}

/** A set holding one or more of its exercise's current PRs. */
export interface SetRecords {
  exercise_index: number;
  set_index: number;
  kinds: PrKind[];
}

/** The workout page (SPEC §13): the workout, its Apple Health partner, and the PRs its sets hold now. */
export interface WorkoutDetail {
  workout: WorkoutView;
  apple_health: LinkedHealth | null;
  records: SetRecords[];
}

const cursorSchema = z.strictObject({ s: z.number().int(), i: z.string().min(1).max(64) });

/**
 * GET /workouts/hevy: newest first (start_time, then id, descending), keyset-
 * paged so inserts never shift a page. Always three statements in one D1 batch
 * — the page, its exercises, its sets — whatever the limit.
 */
export async function listWorkouts(deps: Pick<Deps, "db" | "d1">, userId: string, filters: WorkoutFilters) {
  const conditions: SQL[] = [eq(hevyWorkouts.userId, userId), isNull(hevyWorkouts.deletedAt)];
  if (filters.from !== undefined) conditions.push(gte(hevyWorkouts.startTime, filters.from));
  if (filters.to !== undefined) conditions.push(lt(hevyWorkouts.startTime, filters.to));
  if (filters.updatedSince !== undefined) conditions.push(gte(hevyWorkouts.hevyUpdatedAt, filters.updatedSince));
  if (filters.cursor) {
    const after = decodeCursor(filters.cursor, cursorSchema);
    conditions.push(
      or(lt(hevyWorkouts.startTime, after.s), and(eq(hevyWorkouts.startTime, after.s), lt(hevyWorkouts.id, after.i)))!,
    );
  }
  const page = deps.db
    .select({ id: hevyWorkouts.id })
    .from(hevyWorkouts)
    .where(and(...conditions))
    .orderBy(desc(hevyWorkouts.startTime), desc(hevyWorkouts.id))
    .limit(filters.limit + 1);
  const { rows } = await loadWorkouts(deps, userId, sql`IN (${page})`);
  const hasMore = rows.length > filters.limit;
  const data = rows.slice(0, filters.limit);
  const last = data.at(-1);
  return {
    data: data.map(toView),
    next_cursor: hasMore && last ? encodeCursor({ s: last.startTime, i: last.id }) : null,
  };
}

/** GET /workouts/hevy/{id}: the user's live workout, or 404 (another user's id included). */
export async function getWorkout(deps: Pick<Deps, "db" | "d1">, userId: string, id: string): Promise<WorkoutView> {
  const { rows: [row] } = await loadWorkouts(deps, userId, sql`= ${id}`);
  if (!row) throw notFound("No Hevy workout with this id.");
  return toView(row);
}

/**
 * The workout page's read: the workout, the Apple Health workout paired with it and the PRs its
 * sets hold, in the workout's one D1 batch (one round trip, one snapshot). 404 as getWorkout.
 */
export async function getWorkoutDetail(deps: Pick<Deps, "db" | "d1">, userId: string, id: string): Promise<WorkoutDetail> {
  const linkedQ = sql`SELECT calories_kcal, avg_hr_bpm, max_hr_bpm FROM source_workouts
    WHERE user_id = ${userId} AND source = 'apple_health' AND paired_hevy_id = ${id} ORDER BY start_time LIMIT 1`;
  const prsQ = sql`SELECT exercise_index, set_index, kind FROM hevy_prs
    WHERE user_id = ${userId} AND workout_id = ${id} ORDER BY exercise_index, set_index, kind`;
  const { rows: [row], extra: [linked, prs] } = await loadWorkouts(deps, userId, sql`= ${id}`, [linkedQ, prsQ]);
  if (!row) throw notFound("No Hevy workout with this id.");
  const records: SetRecords[] = [];
  for (const p of prs!.results as Array<{ exercise_index: number; set_index: number; kind: number }>) {
    const last = records.at(-1);
    const kind = PR_KINDS[p.kind]!;
    if (last && last.exercise_index === p.exercise_index && last.set_index === p.set_index) last.kinds.push(kind);
    else records.push({ exercise_index: p.exercise_index, set_index: p.set_index, kinds: [kind] });
  }
  return { workout: toView(row), apple_health: (linked!.results[0] as LinkedHealth | undefined) ?? null, records };
}

type WorkoutRow = typeof hevyWorkouts.$inferSelect & { exercises: ExerciseView[] };

/** The user's live workouts whose id matches `idMatch`, with the results of `extra` statements run in the same batch. */
async function loadWorkouts(
  deps: Pick<Deps, "db" | "d1">, userId: string, idMatch: SQL, extra: Batchable[] = [],
): Promise<{ rows: WorkoutRow[]; extra: D1Result[] }> {
  const { db } = deps;
  const workoutsQ = db
    .select()
    .from(hevyWorkouts)
    .where(and(eq(hevyWorkouts.userId, userId), isNull(hevyWorkouts.deletedAt), sql`${hevyWorkouts.id} ${idMatch}`))
    .orderBy(desc(hevyWorkouts.startTime), desc(hevyWorkouts.id));
  // Children reach the workouts by key: the page's keys come from the same (user_id, id) match.
  const keys = workoutKeys(userId, sql` AND w.deleted_at IS NULL AND w.id ${idMatch}`);
  const exercisesQ = sql`SELECT w.id AS workout_id, e.exercise_index, e.title, e.notes, e.exercise_template_id, e.superset_id
    FROM hevy_exercises e CROSS JOIN hevy_workouts w ON w.key = e.workout_key
    WHERE e.workout_key IN ${keys} ORDER BY e.workout_key, e.exercise_index`;
  const setsQ = sql`SELECT w.id AS workout_id, s.exercise_index, s.set_index, ${sql.raw(decodeSetType("s.type"))} AS type, s.weight_kg, s.reps,
      s.distance_meters, s.duration_seconds, s.rpe, s.custom_metric
    FROM hevy_sets s CROSS JOIN hevy_workouts w ON w.key = s.workout_key
    WHERE s.workout_key IN ${keys} ORDER BY s.workout_key, s.exercise_index, s.set_index`;
  const [w, e, s, ...rest] = await runBatch(deps.d1, [workoutsQ, exercisesQ, setsQ, ...extra]);
  const workouts = (w!.results as RawWorkout[]).map(mapWorkout);
  const exercises = e!.results as RawExercise[];
  const sets = s!.results as RawSet[];

  const setsByExercise = new Map<string, SetView[]>();
  for (const set of sets) {
    const key = `${set.workout_id}\u0000${set.exercise_index}`;
    let list = setsByExercise.get(key);
    if (!list) setsByExercise.set(key, (list = []));
    list.push({
      index: set.set_index, type: set.type, weight_kg: set.weight_kg, reps: set.reps,
      distance_meters: set.distance_meters, duration_seconds: set.duration_seconds, rpe: set.rpe, custom_metric: set.custom_metric,
    });
  }
  const exercisesByWorkout = new Map<string, ExerciseView[]>();
  for (const ex of exercises) {
    let list = exercisesByWorkout.get(ex.workout_id);
    if (!list) exercisesByWorkout.set(ex.workout_id, (list = []));
    list.push(exerciseView(
      { index: ex.exercise_index, title: ex.title, notes: ex.notes, exercise_template_id: ex.exercise_template_id, superset_id: ex.superset_id },
      setsByExercise.get(`${ex.workout_id}\u0000${ex.exercise_index}`) ?? [],
    ));
  }
  return { rows: workouts.map((row) => ({ ...row, exercises: exercisesByWorkout.get(row.id) ?? [] })), extra: rest };
}

// runBatch returns D1's raw rows (column names as in SQL).
interface RawWorkout {
  key: number; user_id: string; id: string; title: string; description: string | null; routine_id: string | null;
  start_time: number; end_time: number; hevy_updated_at: number; hevy_created_at: number | null; deleted_at: number | null;
  volume_kg: number; set_count: number; exercise_count: number; synced_at: number;
}
interface RawExercise {
  workout_id: string; exercise_index: number; title: string; notes: string | null; exercise_template_id: string | null; superset_id: number | null;
}
interface RawSet {
  workout_id: string; exercise_index: number; set_index: number; type: string; weight_kg: number | null; reps: number | null;
  distance_meters: number | null; duration_seconds: number | null; rpe: number | null; custom_metric: number | null;
}

const mapWorkout = (r: RawWorkout): typeof hevyWorkouts.$inferSelect => ({
  key: r.key, userId: r.user_id, id: r.id, title: r.title, description: r.description, routineId: r.routine_id,
  startTime: r.start_time, endTime: r.end_time, hevyUpdatedAt: r.hevy_updated_at, hevyCreatedAt: r.hevy_created_at,
  deletedAt: r.deleted_at, volumeKg: r.volume_kg, setCount: r.set_count, exerciseCount: r.exercise_count, syncedAt: r.synced_at,
});

/** An exercise with its sets (in set order) and their volume, by the workout volume rule. */
function exerciseView(fields: Omit<ExerciseView, "volume_kg" | "sets">, sets: SetView[]): ExerciseView {
  const volume = sets.reduce((sum, set) => sum + setVolumeKg({ type: set.type, weightKg: set.weight_kg, reps: set.reps }), 0);
  return { ...fields, volume_kg: volume, sets };
}

/** The fields of a stored workout row the API shows. */
type ViewedRow = Pick<typeof hevyWorkouts.$inferSelect,
  "id" | "title" | "description" | "routineId" | "startTime" | "endTime" | "hevyUpdatedAt" | "hevyCreatedAt" | "volumeKg" | "setCount" | "exerciseCount">
  & { exercises: ExerciseView[] };

function toView(row: ViewedRow): WorkoutView {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    routine_id: row.routineId,
    start_time: isoUtc(row.startTime),
    end_time: isoUtc(row.endTime),
    duration_seconds: Math.round((row.endTime - row.startTime) / 1000),
    updated_at: isoUtc(row.hevyUpdatedAt),
    created_at: isoOrNull(row.hevyCreatedAt),
    exercises: row.exercises,
    metrics: { volume_kg: row.volumeKg, set_count: row.setCount, exercise_count: row.exerciseCount },
  };
}

/**
 * A workout as GET /api/v1/workouts/hevy/{id} will show it once stored, built from the workout
 * being written: the data of outgoing hevy.workout.created/updated events (SPEC §15), made in the
 * batch that stores it. test/webhook-events.test.ts checks it equals the API's answer.
 */
export function workoutViewOf(w: Workout): WorkoutView {
  const m = workoutMetrics(w);
  return toView({
    id: w.id, title: w.title, description: w.description, routineId: w.routineId, startTime: w.startTime, endTime: w.endTime,
    hevyUpdatedAt: w.updatedAt, hevyCreatedAt: w.createdAt, volumeKg: m.volumeKg, setCount: m.setCount, exerciseCount: m.exerciseCount,
    // In index order, as the API reads them back (Hevy may send them in another order).
    exercises: [...w.exercises].sort((a, b) => a.index - b.index).map((e) => exerciseView(
      { index: e.index, title: e.title, notes: e.notes, exercise_template_id: e.exerciseTemplateId, superset_id: e.supersetId },
      [...e.sets].sort((a, b) => a.index - b.index).map((set) => ({
        index: set.index, type: set.type, weight_kg: set.weightKg, reps: set.reps, distance_meters: set.distanceMeters,
        duration_seconds: set.durationSeconds, rpe: set.rpe, custom_metric: set.customMetric,
      })),
    )),
  });
}
