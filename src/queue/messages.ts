import { z } from "zod";

// Every message on SYNC_QUEUE. Consumers zod-parse each body; a body that does
// not parse is a poison message: acknowledged and recorded, never retried.

const userId = z.string().min(1).max(64);

export const backfillMessage = z.object({
  type: z.literal("backfill"),
  userId,
  /** The run this chunk belongs to; chunks of a superseded run are dropped. */
  runId: z.string().min(1).max(64),
  phase: z.enum(["templates", "workouts"]),
  /** First page this chunk fetches. */
  page: z.number().int().positive(),
  /** 2 when the workout list is walked again because Hevy reported deletions during the first walk. */
  pass: z.union([z.literal(1), z.literal(2)]).optional(),
});

export const deltaMessage = z.object({
  type: z.literal("delta"),
  userId,
  reason: z.enum(["cron", "manual", "reconnect"]),
});

export const webhookWorkoutMessage = z.object({
  type: z.literal("webhook_workout"),
  userId,
  workoutId: z.string().min(1).max(64),
  deliveryId: z.string().min(1).max(128),
});

/** Writes one per-set CSV export to R2 (src/services/export-job.ts). */
export const exportMessage = z.object({
  type: z.literal("export"),
  userId,
  exportId: z.string().min(1).max(64),
});

export const syncMessage = z.discriminatedUnion("type", [backfillMessage, deltaMessage, webhookWorkoutMessage, exportMessage]);

export type BackfillMessage = z.infer<typeof backfillMessage>;
export type DeltaMessage = z.infer<typeof deltaMessage>;
export type WebhookWorkoutMessage = z.infer<typeof webhookWorkoutMessage>;
export type ExportMessage = z.infer<typeof exportMessage>;
export type SyncMessage = z.infer<typeof syncMessage>;
