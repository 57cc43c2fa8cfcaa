import { newD1Stats } from "../db/instrument";
import { createDeps, type Deps, withD1Stats } from "../deps";
import type { Env } from "../env";
import { defaultExportJobOptions, type ExportJobOptions, runExportJob } from "../services/export-job";
import { purgeExportFiles, recordExportDeadLetter } from "../services/exports";
import { rebuildRollups } from "../services/metrics/rollup-rebuild";
import type { WebhookDeliveryOptions } from "../services/webhook-delivery";
import { moveUser } from "../services/move-user";
import { type BackfillOptions, defaultBackfillOptions, runBackfillChunk } from "../services/sync/backfill";
import { defaultDeltaOptions, type DeltaOptions, runDelta } from "../services/sync/delta";
import { fetchWebhookWorkout } from "../services/sync/webhook-fetch";
import { queueBackoffSeconds, RetryLater } from "../services/sync/retry";
import type { Delivery } from "../services/sync/connection-state";
import { logPurgeDeadLetter, recordDeadLetter, recordDeadLetterMessage } from "./dead-letter";
import { type MoveUserMessage, type SyncMessage, syncMessage } from "./messages";
import { forMessageUser, homeOf, MOVE_WAIT_SECONDS, MOVING } from "./user-deps";
import { handleWebhookBatch, WEBHOOK_QUEUE_NAME } from "./webhook-consumer";

export const DEAD_LETTER_SUFFIX = "-dlq";

export interface ConsumerOptions {
  deps?: Partial<Deps>;
  backfill?: BackfillOptions;
  delta?: DeltaOptions;
  export?: Partial<ExportJobOptions>;
  webhook?: Partial<WebhookDeliveryOptions>;
}

/**
 * The SYNC_QUEUE consumer (and its dead-letter queue's). Each body is zod-parsed;
 * a body that does not parse is poison: no retry can fix it, so it is sent
 * straight to the dead-letter queue (SYNC_DLQ) and acknowledged. Should that
 * send fail, the message is retried like any failure, and after max_retries the
 * queue itself moves it there: either way it is never retried forever.
 * A handler that throws RetryLater is redelivered after the delay it asks for;
 * any other failure after exponential backoff. After the queue's max_retries a
 * message lands in the dead-letter queue, whose consumer records every message
 * in `dead_letters` and a job's failure where the user sees it.
 */
export async function handleQueueBatch(batch: MessageBatch<unknown>, env: Env, options: ConsumerOptions = {}): Promise<void> {
  // Outgoing webhook deliveries have a queue of their own (wrangler.toml), consumed apart.
  if (batch.queue === WEBHOOK_QUEUE_NAME) return handleWebhookBatch(batch, env, options);
  const deps = await createDeps(env, options.deps);
  const deadLetters = batch.queue.endsWith(DEAD_LETTER_SUFFIX);
  for (const message of batch.messages) {
    const parsed = syncMessage.safeParse(message.body);
    if (deadLetters) {
      // The operator's record, keyed by the message id: a redelivered batch adds no second row.
      await recordDeadLetterMessage(deps, message, parsed.success ? null : parsed.error.issues);
      if (!parsed.success) log("error", "poison message recorded", { queue: batch.queue, id: message.id });
      else if (parsed.data.type === "export") await recordExportDeadLetter(await homeOf(deps, parsed.data.userId), deps.exportsBucket, parsed.data);
      else if (parsed.data.type === "purge_exports") logPurgeDeadLetter(parsed.data);
      // Readers compute from the workouts meanwhile, and the hourly cron queues the rebuild again.
      else if (parsed.data.type === "rebuild_rollups") log("warn", "rollup rebuild gave up; the cron queues it again", { userId: parsed.data.userId });
      // The directory still names the target: POST …/move again to carry on.
      else if (parsed.data.type === "move_user") log("error", "user move gave up; its sync waits until it is moved", { userId: parsed.data.userId, shard: parsed.data.shard });
      else await recordDeadLetter(await homeOf(deps, parsed.data.userId), parsed.data);
      message.ack();
      continue;
    }
    if (!parsed.success) {
      try {
        await env.SYNC_DLQ.send(message.body, { contentType: "v8" }); // v8: whatever the producer sent, it survives
        log("error", "poison message dropped: sent to the dead-letter queue", { queue: batch.queue, id: message.id, issues: parsed.error.issues.length });
        message.ack();
      } catch (err) {
        log("warn", "poison message could not be dead-lettered; will be retried", { id: message.id, attempts: message.attempts, error: String(err).slice(0, 300) });
        message.retry({ delaySeconds: queueBackoffSeconds(message.attempts) });
      }
      continue;
    }
    try {
      if (parsed.data.type === "move_user") {
        await moveUser(deps, parsed.data);
      } else {
        const userDeps = await forMessageUser(deps, parsed.data.userId);
        if (userDeps === MOVING) {
          // The user's rows are being moved to another shard (SPEC §12): the job waits, as a new
          // message with a delay (not a retry: a long move must not use up the message's retries).
          await env.SYNC_QUEUE.send(parsed.data, { delaySeconds: MOVE_WAIT_SECONDS });
          message.ack();
          continue;
        }
        await dispatch(withD1Stats(userDeps, userDeps.d1, newD1Stats()), parsed.data, options, { attempts: message.attempts });
      }
      message.ack();
    } catch (err) {
      // Never sooner than Hevy asked (RetryLater), and growing with each delivery either way.
      const backoff = queueBackoffSeconds(message.attempts);
      const delaySeconds = err instanceof RetryLater ? Math.max(err.delaySeconds, backoff) : backoff;
      const e = err instanceof Error ? err : new Error(String(err));
      log("warn", "message will be retried", { type: parsed.data.type, attempts: message.attempts, delaySeconds, error: e.name, message: e.message.slice(0, 300), ...(err instanceof RetryLater ? {} : { stack: e.stack?.slice(0, 1000) }) });
      message.retry({ delaySeconds });
    }
  }
}

/** A user's job on their shard (a move runs before any user is resolved: it is handled above). */
async function dispatch(deps: Deps, message: Exclude<SyncMessage, MoveUserMessage>, options: ConsumerOptions, delivery: Delivery): Promise<void> {
  switch (message.type) {
    case "backfill":
      return runBackfillChunk(deps, message, options.backfill ?? defaultBackfillOptions, delivery);
    case "delta":
      return runDelta(deps, message, options.delta ?? defaultDeltaOptions, delivery);
    case "webhook_workout":
      return fetchWebhookWorkout(deps, message, (options.delta ?? defaultDeltaOptions).retry, delivery);
    case "export":
      return runExportJob(deps, message, { ...defaultExportJobOptions, ...options.export });
    case "purge_exports":
      // Throws while R2 fails, so the queue redelivers it with growing delay.
      return purgeExportFiles(deps, deps.exportsBucket, message.userId, message.uploads);
    case "rebuild_rollups":
      await rebuildRollups(deps, message.userId);
      return;
  }
}

function log(level: "warn" | "error", msg: string, fields: Record<string, unknown>) {
  console[level](JSON.stringify({ level, msg, ...fields }));
}
