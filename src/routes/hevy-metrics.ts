import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { checkRange, rangeQuery } from "../lib/list-query";
import { documented, isoDate, isoInstant, listOf } from "../lib/openapi";
import { validate } from "../lib/validation";
import { PR_KINDS } from "../services/metrics/prs";
import {
  DEFAULT_WEEKS,
  getLatestSessionRecovery,
  getMuscleGroups,
  getPrs,
  getSessionsRecovery,
  getSummary,
  getTrends,
  MAX_WEEKS,
} from "../services/metrics/summary";

const weeksMessage = `must be an integer from 1 to ${MAX_WEEKS}`;
const weeksParam = z
  .string()
  .meta({ description: `Weeks ending with the current one, in the user's zone: an integer from 1 to ${MAX_WEEKS}; default ${DEFAULT_WEEKS}`, examples: ["12"] })
  .regex(/^\d{1,3}$/, weeksMessage)
  .transform(Number)
  .pipe(z.number().int().min(1, weeksMessage).max(MAX_WEEKS, weeksMessage))
  .optional()
  .transform((v) => v ?? DEFAULT_WEEKS);

const weeksQuery = z.strictObject({ weeks: weeksParam });
const noQuery = z.strictObject({});
const rangeOnly = z.strictObject(rangeQuery).superRefine(checkRange);

const week = z.strictObject({
  week_start: isoDate.describe("The local Monday"),
  workouts: z.number().int(),
  sets: z.number().int().describe("Every logged set, warm-ups included"),
  volume_kg: z.number().describe("Σ weight × reps over non-warm-up sets"),
});
const totals = z.strictObject({ workouts: z.number().int(), sets: z.number().int(), volume_kg: z.number() });
const pr = z
  .strictObject({
    exercise_template_id: z.string(),
    exercise_title: z.string(),
    kind: z.enum(PR_KINDS),
    value: z.number(),
    weight_kg: z.number().nullable(),
    reps: z.number().nullable(),
    workout_id: z.string(),
    achieved_at: isoInstant,
  })
  .meta({ id: "PersonalRecord" });
const muscleGroup = z.strictObject({
  muscle_group: z.string(),
  sets: z.number().describe("1 per set for the primary group, 0.5 for each secondary"),
  volume_kg: z.number(),
});
const session = z.strictObject({
  id: z.string(), title: z.string(), start_time: isoInstant, duration_seconds: z.number().int(), volume_kg: z.number(), set_count: z.number().int(),
});
const reading = z
  .strictObject({ date: isoDate.describe("The wake-up day"), score: z.number(), avg_30d: z.number().nullable().describe("Mean of the 30 days before; null without any") })
  .meta({ id: "Reading" });
const latestRecovery = z
  .strictObject({ workout_id: z.string(), start_time: isoInstant, whoop_recovery: reading.nullable(), oura_readiness: reading.nullable() })
  .meta({ id: "LatestSessionRecovery" });
const sessionRecovery = z.strictObject({
  workout_id: z.string(), title: z.string(), start_time: isoInstant, volume_kg: z.number(), whoop_recovery: reading.nullable(), oura_readiness: reading.nullable(),
});
const summary = z
  .strictObject({
    weeks: z.array(week),
    totals,
    prs: z.array(pr),
    recent_prs: z.array(pr).describe("The PRs set within the window"),
    muscle_groups: z.array(muscleGroup),
    recent_sessions: z.array(session),
    latest_session_recovery: latestRecovery.nullable(),
  })
  .meta({ id: "Summary" });

const metric = (summary: string, schema: z.ZodType, description: string, errors = [400]) =>
  documented({ summary, tags: ["Strength metrics"], auth: "user", errors, ok: { 200: { description, schema } } });

/** Strength metrics of the user's Hevy workouts (SPEC §7), mounted at /api/v1/hevy. */
export const hevyMetricsRoutes = new Hono<AppEnv>()
  .get("/summary", metric("Everything the hub shows", summary, "Weeks (`weeks`, default 12, in the user's zone), totals, PRs, muscle groups, recent sessions, the latest session's recovery"),
    validate("query", weeksQuery), async (c) => c.json(await getSummary(c.var.deps, c.var.user, c.req.valid("query").weeks)))
  .get("/trends", metric("Weekly volume, sets and workouts", z.strictObject({ weeks: z.array(week), totals }), "The summary's weeks and totals"),
    validate("query", weeksQuery), async (c) => c.json(await getTrends(c.var.deps, c.var.user, c.req.valid("query").weeks)))
  // Lists in the API's list shape; complete in one page (a few per exercise), so next_cursor is always null.
  .get("/prs", metric("Current all-time PRs", listOf(pr, "Always null: one page"), "Per exercise and kind"),
    validate("query", noQuery), async (c) => c.json({ data: await getPrs(c.var.deps, c.var.user), next_cursor: null }))
  .get("/muscle-groups", metric("Sets and volume per muscle group", listOf(muscleGroup, "Always null: one page"), "Over workouts starting in [from, to)"),
    validate("query", rangeOnly), async (c) => {
      const { from, to } = c.req.valid("query");
      return c.json({ data: await getMuscleGroups(c.var.deps, c.var.user, { from, to }), next_cursor: null });
    })
  // Every lift session of the window (oldest first) against the next morning's readings.
  .get("/sessions/recovery", metric("Sessions vs the next morning", listOf(sessionRecovery, "Always null: one page"), "Every lift session of the window, oldest first, with the next morning's WHOOP recovery and Oura readiness"),
    validate("query", weeksQuery), async (c) =>
      c.json({ data: await getSessionsRecovery(c.var.deps, c.var.user, c.req.valid("query").weeks), next_cursor: null }))
  .get("/sessions/latest/recovery", metric("The latest session vs the next morning", latestRecovery, "The latest lift session and its wake-up day's readings", [400, 404]),
    validate("query", noQuery), async (c) => c.json(await getLatestSessionRecovery(c.var.deps, c.var.user)));
