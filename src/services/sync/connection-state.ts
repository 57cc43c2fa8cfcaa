import { and, eq, sql } from "drizzle-orm";
import { runBatch } from "../../db/batch";
import type { Db } from "../../db/client";
import { hevyConnections, syncRuns } from "../../db/schema";
import type { Deps } from "../../deps";
import type { ConnectionRow } from "../connections";
import { resealRow } from "../key-rotation";
import { connectionEvent, deliveriesIn, queueDeliveries } from "../webhook-events";
import { aad } from "../webhook-subscription";
import type { SyncMessage } from "../../queue/messages";
import { RetryLater } from "./retry";
import { currentConnection, type JobScope, stillCurrent } from "./scope";

export const AUTH_FAILED_MESSAGE = "Hevy rejected the API key (401). Paste a new key to resume syncing.";
/**
 * The Hevy key of a connection. Envelopes made under a rotated-out key (the key
 * itself, the webhook secret and auth token) are re-encrypted under the current
 * one on the way, so the old key can be retired once every connection synced.
 */
export async function connectionApiKey(deps: Pick<Deps, "db" | "keyring">, row: ConnectionRow): Promise<string> {
  const envelope = row.apiKeyEnvelope;
  if (envelope === null) throw new Error("the connection has no stored key");
  const apiKey = (await deps.keyring.decrypt(envelope, aad.apiKey(row.userId))).plaintext;
  const resealed = await resealRow(deps, row, (kid) => kid !== deps.keyring.currentKid);
  if (resealed) await resealed.update;
  return apiKey;
}

/**
 * A 401 from Hevy: the connection needs a new key — but only if the key that got
 * the 401 is still the stored one (the scope's epoch): a stale job holding an
 * older key never flips a connection the user just re-keyed. The stored key is
 * left exactly as it is, stored workouts stay readable, and an unfinished
 * backfill is marked failed so a re-connect resumes it.
 */
export async function markNeedsReconnect(deps: Pick<Deps, "db" | "d1" | "webhookQueue">, scope: JobScope, runId: string | null, now: number): Promise<void> {
  const { db } = deps;
  const reason = AUTH_FAILED_MESSAGE;
  const flips = and(currentConnection({ userId: scope.userId, epoch: scope.epoch }), eq(hevyConnections.status, "active"));
  const connection = db
    .update(hevyConnections)
    .set({
      status: "needs_reconnect",
      backfillState: sql`CASE WHEN ${hevyConnections.backfillState} = 'done' THEN 'done' ELSE 'failed' END`,
      lastError: reason,
      updatedAt: now,
    })
    .where(flips);
  // hevy.connection.needs_reconnect (SPEC §15): written under the UPDATE's own condition, before it, so only the flip announces.
  const [announce, fanOut] = connectionEvent(scope.userId, "hevy.connection.needs_reconnect", sql`json_object('reason', ${reason})`,
    sql`EXISTS (SELECT 1 FROM hevy_connections WHERE ${flips})`, now);
  const results = await runBatch(deps.d1, [
    announce!,
    fanOut!,
    connection,
    // A stale job (its key was replaced meanwhile) was superseded, not stopped by the stored key.
    ...(runId
      ? [
          db
            .update(syncRuns)
            .set({ outcome: sql`CASE WHEN ${stillCurrent({ userId: scope.userId, epoch: scope.epoch })} THEN 'needs_reconnect' ELSE 'superseded' END`, finishedAt: now, error: reason })
            .where(eq(syncRuns.id, runId)),
        ]
      : []),
  ]);
  await queueDeliveries(deps, scope.userId, deliveriesIn(results, [1]));
}

/**
 * Pauses shorter than this are left to the redelivered message's own delay: no
 * resume (10 minutes stalled) or hourly run comes before they pass anyway.
 */
export const KEPT_PAUSE_SECONDS = 60;

/**
 * Notes a retryable failure on the connection so the user sees what is going on while it
 * retries. A 429 whose pause (a minute or more) goes back to the queue is also kept as the key's pause
 * (`hevy_paused_until`): no job, cron resume, manual sync or re-PUT calls Hevy with this key
 * before it has passed (SPEC §11).
 */
export function noteRetry(db: Db, scope: JobScope, err: unknown, now: number) {
  const message = `${err instanceof Error ? err.message : "unexpected error"}; retrying`;
  const pause = err instanceof RetryLater && err.rateLimited && err.delaySeconds >= KEPT_PAUSE_SECONDS ? now + err.delaySeconds * 1000 : null;
  return db
    .update(hevyConnections)
    .set({
      lastError: message,
      updatedAt: now,
      ...(pause === null ? {} : { hevyPausedUntil: sql`max(coalesce(${hevyConnections.hevyPausedUntil}, 0), ${pause})` }),
    })
    .where(currentConnection({ userId: scope.userId, epoch: scope.epoch }));
}

/** Queues delay a message 12 hours at most. */
const MAX_QUEUE_DELAY_SECONDS = 43_200;

/** Seconds left of Hevy's pause for this connection's key (0 when none). */
export function pauseLeftSeconds(row: Pick<ConnectionRow, "hevyPausedUntil">, now: number): number {
  if (row.hevyPausedUntil === null || row.hevyPausedUntil <= now) return 0;
  return Math.min(MAX_QUEUE_DELAY_SECONDS, Math.ceil((row.hevyPausedUntil - now) / 1000));
}

/** Which delivery of its queue message a job is running (Message.attempts): the first is 1. */
export interface Delivery {
  attempts: number;
}
export const FIRST_DELIVERY: Delivery = { attempts: 1 };

/**
 * Sends a job for this connection, delayed by what is left of Hevy's pause for its
 * key: every producer (manual sync, webhook intake) goes through here and the cron
 * skips paused connections, so nothing calls Hevy with the key before the pause
 * has passed.
 */
export async function sendAfterPause(deps: Pick<Deps, "queue" | "now">, row: Pick<ConnectionRow, "hevyPausedUntil">, message: SyncMessage): Promise<void> {
  const delaySeconds = pauseLeftSeconds(row, deps.now());
  await (delaySeconds > 0 ? deps.queue.send(message, { delaySeconds }) : deps.queue.send(message));
}

/**
 * A job whose message was queued before Hevy's pause began (first delivery) sends
 * itself again, delayed by the rest of the pause, instead of calling Hevy: true
 * when it did. A redelivery goes ahead: it is almost always the very job the queue
 * held back for the pause (its retry delay was at least the Retry-After); one that
 * had failed for another reason before the pause began is the rare exception.
 */
export async function deferWhilePaused(deps: Pick<Deps, "queue" | "now">, row: ConnectionRow, message: SyncMessage, delivery: Delivery): Promise<boolean> {
  if (delivery.attempts > 1 || pauseLeftSeconds(row, deps.now()) === 0) return false;
  await sendAfterPause(deps, row, message);
  return true;
}
