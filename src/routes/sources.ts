import { Hono, type MiddlewareHandler } from "hono";
import { z } from "zod";
import { OTHER_SOURCES, type OtherSource } from "../db/schema";
import type { AppEnv } from "../env";
import { AppError, notFound } from "../lib/errors";
import { parseInstant } from "../lib/time";
import { documented } from "../lib/openapi";
import { requireJson, validate } from "../lib/validation";
import { deleteSourceWorkout, MAX_BATCH_ITEMS, upsertSourceWorkouts } from "../services/sources";

/**
 * Batch bodies `{"items": [...]}`: more than MAX_BATCH_ITEMS items → 413
 * batch_too_large (SPEC §10), decided before any item is validated. A body that is
 * not JSON is left to the validator, which answers 400 invalid_json.
 */
export const limitBatch: MiddlewareHandler<AppEnv> = async (c, next) => {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return next();
  }
  const items = body !== null && typeof body === "object" ? (body as { items?: unknown }).items : undefined;
  if (Array.isArray(items) && items.length > MAX_BATCH_ITEMS) {
    throw new AppError(413, "batch_too_large", "Batch too large", `A batch holds at most ${MAX_BATCH_ITEMS} items; this one has ${items.length}.`);
  }
  await next();
};

/** The path's `{source}` must be one of `sources`, else 404 (before the body is looked at). */
export const knownSource =
  (sources: readonly string[]): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const source = c.req.param("source") ?? "";
    if (!sources.includes(source)) throw notFound(`Unknown source "${source.slice(0, 40)}"; one of ${sources.join(", ")}.`);
    await next();
  };

/** `{"items": [...]}` whose items are unique by `key`; a repeat is a 400 naming its index. */
export function batchSchema<T extends z.ZodType>(item: T, key: (i: z.output<T>) => string, keyName: string) {
  return z.strictObject({ items: z.array(item) }).superRefine((body, ctx) => {
    const first = new Map<string, number>();
    body.items.forEach((i, index) => {
      const k = key(i);
      const seen = first.get(k);
      if (seen === undefined) first.set(k, index);
      else ctx.addIssue({ code: "custom", path: ["items", index, keyName], message: `repeats items.${seen}.${keyName}` });
    });
  });
}

// Lone UTF-16 surrogates (\p{Cs}) are refused too: D1 would store them as invalid UTF-8 and read back U+FFFD.
const NO_CONTROL_CHARS = /^[^\u0000-\u001f\u007f\p{Cs}]+$/u;
const WELL_FORMED = /^\P{Cs}*$/u;
const INSTANT_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

const instant = z.string().transform((value, ctx) => {
  const ms = INSTANT_WITH_ZONE.test(value) ? parseInstant(value) : null;
  if (ms === null) {
    ctx.addIssue({ code: "custom", message: "must be an ISO 8601 date-time with a zone, e.g. 2026-11-20T17:02:00Z" });
    return z.NEVER;
  }
  return ms;
});
const bpm = z.number().positive().max(300).nullable().optional();

const workoutItem = z
  .strictObject({
    external_id: z.string().min(1).max(128).regex(NO_CONTROL_CHARS, "must not contain control characters or lone surrogates"),
    activity_type: z.string().min(1).max(64).regex(NO_CONTROL_CHARS, "must not contain control characters or lone surrogates"),
    start_time: instant,
    end_time: instant,
    title: z.string().max(300).regex(WELL_FORMED, "must be well-formed Unicode").nullable().optional(),
    calories_kcal: z.number().min(0).max(50_000).nullable().optional(),
    avg_hr_bpm: bpm,
    max_hr_bpm: bpm,
  })
  .superRefine((w, ctx) => {
    if (w.end_time < w.start_time) ctx.addIssue({ code: "custom", path: ["end_time"], message: "must not be before start_time" });
    if (w.avg_hr_bpm != null && w.max_hr_bpm != null && w.max_hr_bpm < w.avg_hr_bpm) {
      ctx.addIssue({ code: "custom", path: ["max_hr_bpm"], message: "must not be below avg_hr_bpm" });
    }
  });

const workoutsBody = batchSchema(workoutItem, (w) => w.external_id, "external_id");
const externalIdParam = z.string().min(1).max(128).regex(NO_CONTROL_CHARS);

const tags = ["Other sources"];

export const sourceRoutes = new Hono<AppEnv>()
  .put(
    "/:source/workouts",
    documented({
      summary: "Upsert workouts of another source", tags, auth: "user", errors: [400, 404, 415, 503],
      description: "Up to 500 items, upserted on (source, external_id); an Apple Health strength workout overlapping a Hevy one merges with it in the feed.",
      params: { source: { schema: z.enum(OTHER_SOURCES), description: "The source" } },
      ok: { 200: { description: "Stored", schema: z.strictObject({ upserted: z.number().int() }) } },
    }),
    knownSource(OTHER_SOURCES),
    requireJson,
    limitBatch,
    validate("json", workoutsBody),
    async (c) => {
      const source = c.req.param("source") as OtherSource;
      const upserted = await upsertSourceWorkouts(c.var.deps, c.var.user.id, source, c.req.valid("json").items);
      return c.json({ upserted });
    },
  )
  .delete(
    "/:source/workouts/:external_id",
    documented({
      summary: "Delete a workout of another source", tags, auth: "user", errors: [404, 503],
      description: "404 when this user has no workout with this external_id in this source.",
      params: { source: { schema: z.enum(OTHER_SOURCES), description: "The source" }, external_id: { schema: externalIdParam, description: "The source's id of the workout" } },
      ok: { 204: { description: "Deleted" } },
    }),
    knownSource(OTHER_SOURCES),
    async (c) => {
      const externalId = externalIdParam.safeParse(c.req.param("external_id"));
      if (!externalId.success) throw notFound("No workout with this external_id.");
      await deleteSourceWorkout(c.var.deps, c.var.user.id, c.req.param("source") as OtherSource, externalId.data);
      return c.body(null, 204);
    },
  );
