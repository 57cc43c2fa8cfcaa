import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { checkRange, rangeQuery } from "../lib/list-query";
import { validate } from "../lib/validation";
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
  .regex(/^\d{1,3}$/, weeksMessage)
  .transform(Number)
  .pipe(z.number().int().min(1, weeksMessage).max(MAX_WEEKS, weeksMessage))
  .optional()
  .transform((v) => v ?? DEFAULT_WEEKS);

const weeksQuery = z.strictObject({ weeks: weeksParam });
const noQuery = z.strictObject({});
const rangeOnly = z.strictObject(rangeQuery).superRefine(checkRange);

/** Strength metrics of the user's Hevy workouts (SPEC §7), mounted at /api/v1/hevy. */
export const hevyMetricsRoutes = new Hono<AppEnv>()
  .get("/summary", validate("query", weeksQuery), async (c) =>
    c.json(await getSummary(c.var.deps, c.var.user, c.req.valid("query").weeks)),
  )
  .get("/trends", validate("query", weeksQuery), async (c) =>
    c.json(await getTrends(c.var.deps, c.var.user, c.req.valid("query").weeks)),
  )
  // Lists in the API's list shape; complete in one page (a few per exercise), so next_cursor is always null.
  .get("/prs", validate("query", noQuery), async (c) =>
    c.json({ data: await getPrs(c.var.deps, c.var.user), next_cursor: null }),
  )
  .get("/muscle-groups", validate("query", rangeOnly), async (c) => {
    const { from, to } = c.req.valid("query");
    return c.json({ data: await getMuscleGroups(c.var.deps, c.var.user, { from, to }), next_cursor: null });
  })
  // Every lift session of the window (oldest first) against the next morning's readings.
  .get("/sessions/recovery", validate("query", weeksQuery), async (c) =>
    c.json({ data: await getSessionsRecovery(c.var.deps, c.var.user, c.req.valid("query").weeks), next_cursor: null }),
  )
  .get("/sessions/latest/recovery", validate("query", noQuery), async (c) =>
    c.json(await getLatestSessionRecovery(c.var.deps, c.var.user)),
  );
