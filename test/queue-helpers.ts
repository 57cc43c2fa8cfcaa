import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import type { ConsumerOptions } from "../src/queue/consumer";
import { handleQueueBatch } from "../src/queue/consumer";
import type { SyncMessage } from "../src/queue/messages";
import type { BackfillOptions } from "../src/services/sync/backfill";
import type { RetryPolicy } from "../src/services/sync/retry";
import { vi } from "vitest";
import type { TestContext } from "./helpers";

export const QUEUE = "vitaltrends-hevy-sync";
export const DEAD_LETTER_QUEUE = "vitaltrends-hevy-sync-dlq";
/** wrangler.toml: max_retries = 5, so a message is delivered at most six times. */
export const MAX_DELIVERIES = 6;

/** In-process retries that record their waits on a virtual clock instead of sleeping. */
export function recordingRetryPolicy(waits: number[] = []): RetryPolicy & { waits: number[] } {
  let clock = Date.now();
  return {
    attempts: 6,
    maxInlineWaitMs: 10_000,
    baseDelayMs: 500,
    random: () => 0.5,
    now: () => clock,
    sleep: async (ms) => {
      waits.push(ms);
      clock += ms;
    },
    waits,
  };
}

export function fastBackfill(overrides: Partial<BackfillOptions> = {}): BackfillOptions {
  return { pagesPerChunk: 20, concurrency: 4, retry: recordingRetryPolicy(), ...overrides };
}

export interface DrainResult {
  delivered: Array<{ body: SyncMessage; attempts: number; outcome: "ack" | "retry"; delaySeconds?: number }>;
  deadLettered: SyncMessage[];
}

/**
 * Plays the queue: delivers what the app sent, one message per batch, redelivers
 * retried ones (attempts + 1) until max_retries, then hands them to the
 * dead-letter consumer — the same consumer function the Worker exports.
 */
export async function drainQueue(t: TestContext, options: ConsumerOptions = {}, maxDeliveries = 500): Promise<DrainResult> {
  const result: DrainResult = { delivered: [], deadLettered: [] };
  const pending = t.queue.take().map((body) => ({ body, attempts: 1 }));
  let n = 0;
  while (pending.length > 0) {
    if (++n > maxDeliveries) throw new Error(`queue did not drain within ${maxDeliveries} deliveries`);
    const item = pending.shift()!;
    const outcome = await deliver(t, QUEUE, item.body, item.attempts, options);
    const retry = outcome.retryMessages[0];
    result.delivered.push({ body: item.body, attempts: item.attempts, outcome: retry ? "retry" : "ack", delaySeconds: outcome.delaySeconds });
    if (retry) {
      if (item.attempts >= MAX_DELIVERIES) {
        result.deadLettered.push(item.body);
        await deliver(t, DEAD_LETTER_QUEUE, item.body, 1, options);
      } else {
        pending.push({ body: item.body, attempts: item.attempts + 1 });
      }
    }
    pending.push(...t.queue.take().map((body) => ({ body, attempts: 1 })));
  }
  return result;
}

export async function deliver(t: TestContext, queue: string, body: unknown, attempts: number, options: ConsumerOptions = {}) {
  const batch = createMessageBatch<unknown>(queue, [{ id: crypto.randomUUID(), timestamp: new Date(), attempts, body }]);
  // getQueueResult does not report the retry delay; watch the call to see it.
  const retry = vi.spyOn(batch.messages[0]!, "retry");
  const ctx = createExecutionContext();
  await handleQueueBatch(batch, t.env, options);
  const result = await getQueueResult(batch, ctx);
  return { ...result, delaySeconds: retry.mock.calls[0]?.[0]?.delaySeconds };
}
