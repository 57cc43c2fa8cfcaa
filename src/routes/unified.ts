import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { checkRange, cursorParam, limitParam, rangeQuery } from "../lib/list-query";
import { documented, isoInstant, listOf } from "../lib/openapi";
import { validate } from "../lib/validation";
import { FEED_SOURCES, listUnified } from "../services/unified";

/** The feed's query, shared with the /workouts page. */
export const unifiedListQuery = z
  .strictObject({ ...rangeQuery, source: z.enum(FEED_SOURCES).optional(), limit: limitParam, cursor: cursorParam })
  .superRefine(checkRange);

const feedSource = z.enum(FEED_SOURCES);
const unifiedRow = z
  .strictObject({
    id: z.string().describe("`hevy:<id>` or `<source>:<external_id>`"),
    primary_source: feedSource,
    sources: z.array(feedSource),
    activity_type: z.string(),
    title: z.string().nullable(),
    start_time: isoInstant,
    end_time: isoInstant,
    duration_seconds: z.number().int(),
    strength: z.strictObject({ volume_kg: z.number(), set_count: z.number().int(), exercise_count: z.number().int() }).nullable(),
    calories_kcal: z.number().nullable(),
    avg_hr_bpm: z.number().nullable(),
    max_hr_bpm: z.number().nullable(),
    linked: z.array(z.strictObject({ source: feedSource, external_id: z.string() })),
  })
  .meta({ id: "UnifiedWorkout" });

/** Mounted next to the Hevy workout routes under /api/v1/workouts. */
export const unifiedRoutes = new Hono<AppEnv>().get(
  "/unified",
  documented({
    summary: "The unified workout feed", tags: ["Workouts"], auth: "user", errors: [400],
    description: "Every source, newest first; a Hevy session and its Apple Health twin are one row with both sources.",
    ok: { 200: { description: "A page of the feed", schema: listOf(unifiedRow) } },
  }),
  validate("query", unifiedListQuery),
  async (c) => {
    const q = c.req.valid("query");
    return c.json(await listUnified(c.var.deps, c.var.user.id, { from: q.from, to: q.to, source: q.source, limit: q.limit, cursor: q.cursor }));
  },
);
