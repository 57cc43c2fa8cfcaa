import { z } from "zod";

// Every message on SYNC_QUEUE. Consumers zod-parse each body; a body that does
// not parse is a poison message: acknowledged and recorded, never retried.

const userId = z.string().min(1).max(64);

export const backfillMessage = z.object({
  type: z.literal("backfill"),
  userId,
  /** The run this chunk belongs to; chunks of a superseded run are dropped. */
  runId: z.string().min(1).max(64),
  /** `sweep`: a reconciling backfill's last step, checking stored workouts the walk did not see (src/services/sync/sweep.ts). */
  phase: z.enum(["templates", "workouts", "sweep"]),
  /** First page this chunk fetches. */
  page: z.number().int().positive(),
  /** 2 or 3 when the workout list is walked again because Hevy reported deletions during the walk before. */
  pass: z.number().int().min(1).max(3).optional(),
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

/** Most uploads one purge_exports message lists: 50 × (key + upload id) stays far under the 128 KB message limit. */
export const PURGE_UPLOADS_MAX = 50;

/** Finishes a purge's R2 work that failed inline (purgeExportFiles in src/services/exports.ts). */
export const purgeExportsMessage = z.object({
  type: z.literal("purge_exports"),
  userId,
  /** Multipart uploads of the deleted exports, still to abort. */
  uploads: z.array(z.object({ key: z.string().min(1).max(256), uploadId: z.string().min(1).max(1024) })).max(PURGE_UPLOADS_MAX),
});

/** Rebuilds one user's weekly rollups from their rows (src/services/metrics/rollup-rebuild.ts). */
export const rebuildRollupsMessage = z.object({
  type: z.literal("rebuild_rollups"),
  userId,
});

/** Moves one user's rows to another shard (src/services/move-user.ts). */
export const moveUserMessage = z.object({
  type: z.literal("move_user"),
  userId,
  shard: z.number().int().min(0).max(999),
  /** The move the directory names (users.move_id): a message of an earlier move does nothing. */
  moveId: z.string().min(1).max(64),
});

export const syncMessage = z.discriminatedUnion("type", [
  moveUserMessage,
  backfillMessage,
  deltaMessage,
  webhookWorkoutMessage,
  exportMessage,
  purgeExportsMessage,
  rebuildRollupsMessage,
]);

export type BackfillMessage = z.infer<typeof backfillMessage>;
export type DeltaMessage = z.infer<typeof deltaMessage>;
export type WebhookWorkoutMessage = z.infer<typeof webhookWorkoutMessage>;
export type ExportMessage = z.infer<typeof exportMessage>;
export type PurgeExportsMessage = z.infer<typeof purgeExportsMessage>;
export type MoveUserMessage = z.infer<typeof moveUserMessage>;
export type RebuildRollupsMessage = z.infer<typeof rebuildRollupsMessage>;
export type SyncMessage = z.infer<typeof syncMessage>;

/**
 * WEBHOOK_QUEUE (SPEC §15): one attempt to deliver one outbox event to one consumer endpoint
 * (src/services/webhook-delivery.ts). The attempt count and schedule live in D1
 * (webhook_deliveries), so a redelivered or duplicated message attempts nothing already done.
 */
export const webhookDeliveryMessage = z.object({
  type: z.literal("webhook_delivery"),
  userId,
  endpointId: z.string().min(1).max(64),
  eventId: z.string().min(1).max(64),
});

export type WebhookDeliveryMessage = z.infer<typeof webhookDeliveryMessage>;
