import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { checkRange, cursorParam, instantParam, limitParam, rangeQuery } from "../lib/list-query";
import { documented, isoInstant, listOf } from "../lib/openapi";
import { validate } from "../lib/validation";
import { getWorkout, listWorkouts } from "../services/workouts";

const listQuery = z
  .strictObject({ ...rangeQuery, updated_since: instantParam.optional(), limit: limitParam, cursor: cursorParam })
  .superRefine(checkRange);

/** A Hevy workout id, shared with the /workouts/hevy/{id} page. */
export const workoutIdParam = z.object({ id: z.string().min(1).max(64).regex(/^[A-Za-z0-9-]+$/, "not a workout id") });

const num = z.number();
const setSchema = z.strictObject({
  index: z.number().int(),
  type: z.string().describe("normal, warmup, failure, dropset, or a type Hevy adds later"),
  weight_kg: num.nullable(),
  reps: num.nullable(),
  distance_meters: num.nullable(),
  duration_seconds: num.nullable(),
  rpe: num.nullable(),
  custom_metric: num.nullable(),
});
const exerciseSchema = z.strictObject({
  index: z.number().int(),
  title: z.string(),
  notes: z.string().nullable(),
  exercise_template_id: z.string().nullable(),
  superset_id: z.number().int().nullable(),
  volume_kg: num.describe("Σ weight × reps of the non-warm-up sets"),
  sets: z.array(setSchema),
});
const workoutSchema = z
  .strictObject({
    id: z.string(),
    title: z.string(),
    description: z.string().nullable(),
    routine_id: z.string().nullable(),
    start_time: isoInstant,
    end_time: isoInstant,
    duration_seconds: z.number().int(),
    updated_at: isoInstant.describe("Hevy's update time"),
    created_at: isoInstant.nullable().describe("Hevy's creation time"),
    exercises: z.array(exerciseSchema),
    metrics: z.strictObject({ volume_kg: num, set_count: z.number().int(), exercise_count: z.number().int() }),
  })
  .meta({ id: "HevyWorkout" });

export const workoutRoutes = new Hono<AppEnv>()
  .get(
    "/hevy",
    documented({
      summary: "List Hevy workouts", tags: ["Workouts"], auth: "user", errors: [400],
      description: "Newest first (start_time, then id); `from` inclusive and `to` exclusive on start_time; `updated_since` for incremental reads.",
      ok: { 200: { description: "A page of workouts", schema: listOf(workoutSchema) } },
    }),
    validate("query", listQuery),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(
        await listWorkouts(c.var.deps, c.var.user.id, { from: q.from, to: q.to, updatedSince: q.updated_since, limit: q.limit, cursor: q.cursor }),
      );
    },
  )
  .get(
    "/hevy/:id",
    documented({
      summary: "Get a Hevy workout", tags: ["Workouts"], auth: "user", errors: [400, 404],
      ok: { 200: { description: "The workout with every exercise and set", schema: workoutSchema } },
    }),
    validate("param", workoutIdParam),
    async (c) => c.json(await getWorkout(c.var.deps, c.var.user.id, c.req.valid("param").id)),
  );
