import { createDeps } from "../deps";
import type { Env } from "../env";
import { defaultWebhookDeliveryOptions, deliverWebhook, CLAIM_LEASE_MS } from "../services/webhook-delivery";
import type { ConsumerOptions } from "./consumer";
import { webhookDeliveryMessage } from "./messages";
import { forMessageUser, MOVE_WAIT_SECONDS, MOVING } from "./user-deps";

/** wrangler.toml's WEBHOOK_QUEUE: its batches are webhook deliveries. */
export const WEBHOOK_QUEUE_NAME = "vitaltrends-hevy-webhooks";

/** A crashed attempt comes back after its claim has lapsed (src/services/webhook-delivery.ts). */
const CRASH_RETRY_SECONDS = Math.ceil(CLAIM_LEASE_MS / 1000) + 30;

/**
 * The WEBHOOK_QUEUE consumer: every message of a batch at once (a slow endpoint must not hold up
 * the others: each attempt waits at most its timeout), each acknowledged once its attempt is
 * recorded. The schedule of retries lives in D1 and is carried by new delayed messages, so a
 * message is retried by the queue only when its handling crashed. A body that does not parse can
 * never succeed: logged and acknowledged.
 */
export async function handleWebhookBatch(batch: MessageBatch<unknown>, env: Env, options: ConsumerOptions = {}): Promise<void> {
  const deps = await createDeps(env, options.deps);
  const delivery = { ...defaultWebhookDeliveryOptions, ...options.webhook };
  await Promise.allSettled(
    batch.messages.map(async (message) => {
      const parsed = webhookDeliveryMessage.safeParse(message.body);
      if (!parsed.success) {
        log("error", "poison webhook message dropped", { queue: batch.queue, id: message.id, issues: parsed.error.issues.length });
        message.ack();
        return;
      }
      try {
        const userDeps = await forMessageUser(deps, parsed.data.userId);
        if (userDeps === MOVING) {
          // The user's rows are moving to another shard (SPEC §12): look again later, from where they are then.
          await deps.webhookQueue.send(parsed.data, { delaySeconds: MOVE_WAIT_SECONDS });
        } else {
          await deliverWebhook(userDeps, parsed.data, delivery);
        }
        message.ack();
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        log("warn", "webhook message will be retried", { attempts: message.attempts, error: e.name, message: e.message.slice(0, 300) });
        message.retry({ delaySeconds: CRASH_RETRY_SECONDS });
      }
    }),
  );
}

function log(level: "warn" | "error", msg: string, fields: Record<string, unknown>) {
  console[level](JSON.stringify({ level, msg, ...fields }));
}
