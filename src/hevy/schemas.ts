import { z } from "zod";
import type { ExerciseTemplate, HevyUser, Page, SkippedRecord, WebhookSubscription, Workout, WorkoutEvent } from "./types";

// zod schemas of Hevy's wire format (see ../shared/hevy/QUIRKS.md), each mapped
// to the project's own types on the way in. Required identity and time fields
// are strict; fields Hevy documents as nullable accept null or absence. Values of
// enums Hevy may extend (set type, template type, muscle groups, equipment) are
// taken as given. A page's envelope is strict, its records are validated one by
// one (SPEC §11): one odd workout never costs the other nine of its page.

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
  type: z.string().min(1).max(64),
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
    id: z.string().min(1).max(64).regex(/^[A-Za-z0-9-]+$/, "not a Hevy id"),
    // A workout without a title is still a workout: stored with an empty one.
    title: nullableString.transform((v) => v ?? ""),
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

/** FNV-1a of a record's JSON: a stable name for a record that has no usable id. */
function digest(value: unknown): string {
  let h = 0x811c9dc5;
  const text = JSON.stringify(value) ?? "";
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

const usableId = z.string().min(1).max(64).regex(/^[A-Za-z0-9-]+$/);

/** What to call a record that failed validation, and why it failed (field paths, never values). */
export function skippedRecord(raw: unknown, error: z.ZodError): SkippedRecord {
  const id = raw && typeof raw === "object" ? usableId.safeParse((raw as { id?: unknown }).id) : null;
  const issue = error.issues[0];
  const reason = issue ? `${issue.path.join(".") || "record"}: ${issue.message}`.slice(0, 200) : "invalid record";
  return { key: id?.success ? id.data : `unidentified:${digest(raw)}`, reason };
}

/** Parses each record on its own: the good ones in order, the bad ones named. */
function eachRecord<S extends z.ZodType, T>(schema: S, raws: unknown[], map: (v: z.output<S>) => T, name: (raw: unknown) => unknown = (r) => r) {
  const items: T[] = [];
  const skipped: SkippedRecord[] = [];
  for (const raw of raws) {
    const parsed = schema.safeParse(raw);
    if (parsed.success) items.push(map(parsed.data));
    else skipped.push(skippedRecord(name(raw), parsed.error));
  }
  return { items, skipped };
}

export const workoutsPageSchema = z
  .object({ ...pageFields, workouts: z.array(z.unknown()) })
  .transform((p): Page<Workout> => ({ page: p.page, pageCount: p.page_count, ...eachRecord(workoutSchema, p.workouts, (w) => w) }));

const eventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("updated"), workout: workoutSchema }),
  z.object({ type: z.literal("deleted"), id: usableId, deleted_at: instant.nullish() }),
]);

export const eventsPageSchema = z.object({ ...pageFields, events: z.array(z.unknown()) }).transform(
  (p): Page<WorkoutEvent> => ({
    page: p.page,
    pageCount: p.page_count,
    ...eachRecord(
      eventSchema,
      p.events,
      (e): WorkoutEvent => (e.type === "updated" ? e : { type: "deleted", id: e.id, deletedAt: e.deleted_at ?? null }),
      // A bad `updated` event is named after its workout.
      (raw) => (raw && typeof raw === "object" && "workout" in raw ? (raw as { workout: unknown }).workout : raw),
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
  .object({ ...pageFields, exercise_templates: z.array(z.unknown()) })
  .transform(
    (p): Page<ExerciseTemplate> => ({
      page: p.page,
      pageCount: p.page_count,
      ...eachRecord(templateSchema, p.exercise_templates, (t) => ({
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

export const workoutCountSchema = z.object({ workout_count: z.number().int().nonnegative() });
