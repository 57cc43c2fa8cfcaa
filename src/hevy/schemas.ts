import { z } from "zod";
import type { ExerciseTemplate, HevyUser, Page, WebhookSubscription, Workout, WorkoutEvent } from "./types";

// zod schemas of Hevy's wire format (see ../shared/hevy/QUIRKS.md), each mapped
// to the project's own types on the way in. Required identity and time fields
// are strict; fields Hevy documents as nullable accept null or absence.

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

export const instant = z
  .string()
  .regex(ISO_INSTANT, "expected an ISO 8601 instant")
  .transform((s, ctx) => {
    const ms = Date.parse(s);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: "custom", message: "invalid instant" });
      return z.NEVER;
    }
    return ms;
  });

const nullableNumber = z.number().finite().nullish().transform((v) => v ?? null);
const nullableString = z.string().nullish().transform((v) => v ?? null);

const setSchema = z.object({
  index: z.number().int().nonnegative(),
  type: z.enum(["warmup", "normal", "failure", "dropset"]),
  weight_kg: nullableNumber,
  reps: nullableNumber,
  distance_meters: nullableNumber,
  duration_seconds: nullableNumber,
  rpe: nullableNumber,
  custom_metric: nullableNumber,
});

const exerciseSchema = z.object({
  index: z.number().int().nonnegative(),
  title: z.string(),
  notes: nullableString,
  exercise_template_id: nullableString,
  supersets_id: z.number().int().nullish().transform((v) => v ?? null),
  sets: z.array(setSchema),
});

export const workoutSchema = z
  .object({
    id: z.string().min(1),
    title: z.string(),
    description: nullableString,
    routine_id: nullableString,
    start_time: instant,
    end_time: instant,
    updated_at: instant,
    created_at: instant.nullish(),
    exercises: z.array(exerciseSchema),
  })
  .transform(
    (w): Workout => ({
      id: w.id,
      title: w.title,
      description: w.description,
      routineId: w.routine_id,
      startTime: w.start_time,
      endTime: w.end_time,
      updatedAt: w.updated_at,
      createdAt: w.created_at ?? null,
      exercises: w.exercises.map((e) => ({
        index: e.index,
        title: e.title,
        notes: e.notes,
        exerciseTemplateId: e.exercise_template_id,
        supersetId: e.supersets_id,
        sets: e.sets.map((s) => ({
          index: s.index,
          type: s.type,
          weightKg: s.weight_kg,
          reps: s.reps,
          distanceMeters: s.distance_meters,
          durationSeconds: s.duration_seconds,
          rpe: s.rpe,
          customMetric: s.custom_metric,
        })),
      })),
    }),
  );

const pageFields = { page: z.number().int().positive(), page_count: z.number().int().nonnegative() };

export const workoutsPageSchema = z
  .object({ ...pageFields, workouts: z.array(workoutSchema) })
  .transform((p): Page<Workout> => ({ page: p.page, pageCount: p.page_count, items: p.workouts }));

const eventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("updated"), workout: workoutSchema }),
  z.object({ type: z.literal("deleted"), id: z.string().min(1), deleted_at: instant.nullish() }),
]);

export const eventsPageSchema = z.object({ ...pageFields, events: z.array(eventSchema) }).transform(
  (p): Page<WorkoutEvent> => ({
    page: p.page,
    pageCount: p.page_count,
    items: p.events.map((e) =>
      e.type === "updated" ? e : { type: "deleted", id: e.id, deletedAt: e.deleted_at ?? null },
    ),
  }),
);

const templateSchema = z.object({
  id: z.string().min(1),
  title: z.string(),
  type: z.string(),
  primary_muscle_group: z.string(),
  secondary_muscle_groups: z.array(z.string()).nullish().transform((v) => v ?? []),
  equipment_category: nullableString,
  is_custom: z.boolean(),
});

export const templatesPageSchema = z
  .object({ ...pageFields, exercise_templates: z.array(templateSchema) })
  .transform(
    (p): Page<ExerciseTemplate> => ({
      page: p.page,
      pageCount: p.page_count,
      items: p.exercise_templates.map((t) => ({
        id: t.id,
        title: t.title,
        type: t.type,
        primaryMuscleGroup: t.primary_muscle_group,
        secondaryMuscleGroups: t.secondary_muscle_groups,
        equipmentCategory: t.equipment_category,
        isCustom: t.is_custom,
      })),
    }),
  );

export const userInfoSchema = z
  .object({ data: z.object({ id: z.string().min(1), name: z.string(), url: nullableString }) })
  .transform((r): HevyUser => r.data);

export const webhookSubscriptionSchema = z
  .object({ url: z.string(), auth_token: z.string() })
  .transform((s): WebhookSubscription => ({ url: s.url, authToken: s.auth_token }));
