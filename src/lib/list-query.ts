import { z } from "zod";
import { parseInstant } from "./time";

// Query parameters shared by the list routes (SPEC §7, §10).

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;

export const instantParam = z.string().transform((value, ctx) => {
  const ms = parseInstant(value);
  if (ms === null) {
    ctx.addIssue({ code: "custom", message: "must be an ISO 8601 date-time with a zone (2026-11-20T17:02:00Z) or a date (2026-11-20)" });
    return z.NEVER;
  }
  return ms;
});

export const limitParam = z
  .string()
  .meta({ description: `Items per page: an integer from 1 to ${MAX_LIMIT}; default ${DEFAULT_LIMIT}`, examples: ["20"] })
  .regex(/^\d+$/, `must be an integer from 1 to ${MAX_LIMIT}`)
  .transform(Number)
  .pipe(z.number().int().min(1, `must be an integer from 1 to ${MAX_LIMIT}`).max(MAX_LIMIT, `must be an integer from 1 to ${MAX_LIMIT}`))
  .optional()
  .transform((v) => v ?? DEFAULT_LIMIT);

export const cursorParam = z.string().min(1).max(512).optional();

/** `from` inclusive, `to` exclusive; `from > to` is refused. */
export const rangeQuery = {
  from: instantParam.optional(),
  to: instantParam.optional(),
};

export function checkRange<T extends { from?: number; to?: number }>(q: T, ctx: z.RefinementCtx): void {
  if (q.from !== undefined && q.to !== undefined && q.from > q.to) {
    ctx.addIssue({ code: "custom", path: ["from"], message: "from must not be after to" });
  }
}
