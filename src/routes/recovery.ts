import { Hono } from "hono";
import { z } from "zod";
import { RECOVERY_SOURCES } from "../db/schema";
import type { AppEnv } from "../env";
import { documented } from "../lib/openapi";
import { requireJson, validate } from "../lib/validation";
import { upsertRecovery } from "../services/sources";
import { batchSchema, knownSource, limitBatch } from "./sources";

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A real calendar date: 2026-02-30 is refused. */
const calendarDate = z.string().refine((value) => {
  if (!DATE.test(value)) return false;
  const [y, m, d] = value.split("-").map(Number);
  const date = new Date(Date.UTC(y!, m! - 1, d!));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m! - 1 && date.getUTCDate() === d;
}, "must be a calendar date YYYY-MM-DD");

const recoveryItem = z.strictObject({
  date: calendarDate,
  score: z.number().min(0, "must be from 0 to 100").max(100, "must be from 0 to 100"),
});

const recoveryBody = batchSchema(recoveryItem, (r) => r.date, "date");

/** PUT /recovery/{whoop|oura}: WHOOP recovery or Oura readiness per wake-up day, upserted on (source, date). */
export const recoveryRoutes = new Hono<AppEnv>().put(
  "/:source",
  documented({
    summary: "Upsert WHOOP recovery or Oura readiness", tags: ["Other sources"], auth: "user", errors: [400, 404, 415, 503],
    description: "Per wake-up day in the user's zone, up to 500 items, upserted on (source, date).",
    params: { source: { schema: z.enum(RECOVERY_SOURCES), description: "whoop (recovery) or oura (readiness)" } },
    ok: { 200: { description: "Stored", schema: z.strictObject({ upserted: z.number().int() }) } },
  }),
  knownSource(RECOVERY_SOURCES),
  requireJson,
  limitBatch,
  validate("json", recoveryBody),
  async (c) => {
    const source = c.req.param("source") as (typeof RECOVERY_SOURCES)[number];
    const upserted = await upsertRecovery(c.var.deps, c.var.user.id, source, c.req.valid("json").items);
    return c.json({ upserted });
  },
);
