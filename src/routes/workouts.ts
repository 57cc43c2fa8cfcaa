import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { checkRange, cursorParam, instantParam, limitParam, rangeQuery } from "../lib/list-query";
import { validate } from "../lib/validation";
import { getWorkout, listWorkouts } from "../services/workouts";

const listQuery = z
  .strictObject({ ...rangeQuery, updated_since: instantParam.optional(), limit: limitParam, cursor: cursorParam })
  .superRefine(checkRange);

/** A Hevy workout id, shared with the /workouts/hevy/{id} page. */
export const workoutIdParam = z.object({ id: z.string().min(1).max(64).regex(/^[A-Za-z0-9-]+$/, "not a workout id") });

export const workoutRoutes = new Hono<AppEnv>()
  .get("/hevy", validate("query", listQuery), async (c) => {
    const q = c.req.valid("query");
    return c.json(
      await listWorkouts(c.var.deps, c.var.user.id, {
        from: q.from,
        to: q.to,
        updatedSince: q.updated_since,
        limit: q.limit,
        cursor: q.cursor,
      }),
    );
  })
  .get("/hevy/:id", validate("param", workoutIdParam), async (c) =>
    c.json(await getWorkout(c.var.deps, c.var.user.id, c.req.valid("param").id)),
  );
