import { sql } from "drizzle-orm";
import { runBatch } from "../../db/batch";
import type { Deps } from "../../deps";
import { HevyError } from "../../hevy/client";
import type { WebhookWorkoutMessage } from "../../queue/messages";
import { findJobConnection } from "../connections";
import { connectionApiKey, deferWhilePaused, type Delivery, FIRST_DELIVERY, markNeedsReconnect, noteRetry } from "./connection-state";
import { defaultRetryPolicy, RetryLater, type RetryPolicy } from "./retry";
import { scopeOf, stillCurrent } from "./scope";
import { fetchWorkoutOrSkip, skippedStatements } from "./skipped";
import { queueDeliveries } from "../webhook-events";
import { deliveriesOf, upsertWorkoutsStatements } from "./store";

type SyncDeps = Pick<Deps, "db" | "d1" | "keyring" | "hevy" | "queue" | "webhookQueue" | "now">;

/**
 * A webhook is a hint that a workout was created: fetch it and store it under
 * the same version guard as every other write, so duplicates, out-of-order
 * deliveries and races with a delta run all end with the newest version — and
 * under the job guard, so a purge or key change during the fetch stores nothing.
 * A workout Hevy no longer has is left to the events feed, which reports
 * deletions; one Hevy serves but that cannot be stored is noted as skipped.
 */
export async function fetchWebhookWorkout(
  deps: SyncDeps,
  msg: WebhookWorkoutMessage,
  retry: RetryPolicy = defaultRetryPolicy,
  delivery: Delivery = FIRST_DELIVERY,
): Promise<void> {
  const row = await findJobConnection(deps.db, msg.userId);
  if (!row || row.status !== "active") return;
  const scope = scopeOf(row);
  if (!scope || (await deferWhilePaused(deps, row, msg, delivery))) return;
  let requests = 0;
  const hevy = deps.hevy(await connectionApiKey(deps, row), { onRequest: () => requests++ });
  const startedAt = deps.now();
  let fetched: Awaited<ReturnType<typeof fetchWorkoutOrSkip>>;
  try {
    fetched = await fetchWorkoutOrSkip(hevy, msg.workoutId, retry);
  } catch (err) {
    if (err instanceof HevyError && err.kind === "auth") {
      await markNeedsReconnect(deps, scope, null, deps.now());
      return;
    }
    // Only Hevy's pause is noted: last_error belongs to the delta and backfill, not to a hint's fetch.
    if (err instanceof RetryLater && err.rateLimited) await noteRetry(deps.db, scope, err, deps.now());
    throw err;
  }
  const { workout, skipped } = fetched;
  const at = deps.now();
  const guard = stillCurrent(scope);
  const upsert = workout ? upsertWorkoutsStatements(scope, [workout], at, guard, { announce: true }) : null;
  const results = await runBatch(deps.d1, [
    ...(upsert ?? []),
    ...skippedStatements(scope, skipped ? [skipped] : [], workout ? [workout.id] : [], at),
    sql`INSERT INTO sync_runs (id, user_id, kind, outcome, started_at, finished_at, upserts, hevy_requests)
      SELECT ${crypto.randomUUID()}, ${msg.userId}, 'webhook', 'ok', ${startedAt}, ${at}, ${workout ? 1 : 0}, ${requests} WHERE ${guard}`,
  ]);
  if (upsert) await queueDeliveries(deps, msg.userId, deliveriesOf(results, 0, upsert));
}
