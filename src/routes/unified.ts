import { Hono } from "hono";
import { z } from "zod";
import { OTHER_SOURCES } from "../db/schema";
import type { AppEnv } from "../env";
import { checkRange, cursorParam, limitParam, rangeQuery } from "../lib/list-query";
import { validate } from "../lib/validation";
import { listUnified } from "../services/unified";

/** The feed's query, shared with the /workouts page. */
export const unifiedListQuery = z
  .strictObject({ ...rangeQuery, source: z.enum(["hevy", ...OTHER_SOURCES]).optional(), limit: limitParam, cursor: cursorParam })
  .superRefine(checkRange);

/** Mounted next to the Hevy workout routes under /api/v1/workouts. */
export const unifiedRoutes = new Hono<AppEnv>().get("/unified", validate("query", unifiedListQuery), async (c) => {
  const q = c.req.valid("query");
  return c.json(await listUnified(c.var.deps, c.var.user.id, { from: q.from, to: q.to, source: q.source, limit: q.limit, cursor: q.cursor }));
});
