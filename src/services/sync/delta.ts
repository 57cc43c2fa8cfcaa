import { and, eq, lt, sql } from "drizzle-orm";
import { runBatch } from "../../db/batch";
import { hevyConnections, syncRuns } from "../../db/schema";
import type { Deps } from "../../deps";
import { HevyError, WORKOUTS_PAGE_SIZE } from "../../hevy/client";
import type { Page, Workout, WorkoutEvent } from "../../hevy/types";
import type { DeltaMessage } from "../../queue/messages";
import { type ConnectionRow, findJobConnection } from "../connections";
import { aad, openStored, subscribeWebhook } from "../webhook-subscription";
import { connectionApiKey, deferWhilePaused, type Delivery, FIRST_DELIVERY, markNeedsReconnect, noteRetry } from "./connection-state";
import { forEachPage } from "./pages";
import { defaultRetryPolicy, RetryLater, type RetryPolicy } from "./retry";
import { currentConnection, scopeOf, stillCurrent } from "./scope";
import { retrySkipped, skippedError, skippedStatements, skippedToRetryStatement } from "./skipped";
import { queueDeliveries } from "../webhook-events";
import { appliedCount, deleteWorkoutsStatements, deliveriesOf, upsertWorkoutsStatements } from "./store";

export interface DeltaOptions {
  concurrency: number;
  retry: RetryPolicy;
}

/** How long sync_runs rows are kept: a month of hourly runs is ~720 rows (~150 KB) a user. */
export const SYNC_RUNS_KEPT_MS = 30 * 86_400_000;

export const defaultDeltaOptions: DeltaOptions = { concurrency: 2, retry: defaultRetryPolicy };

/**
 * A delta reads the feed from this long before its cursor: an event Hevy commits
 * late (its time lies before events already read) is still met, and reading an
 * event twice is harmless (the version guard).
 */
export const EVENTS_OVERLAP_MS = 5 * 60_000;

type SyncDeps = Pick<Deps, "db" | "d1" | "directory" | "keyring" | "hevy" | "queue" | "webhookQueue" | "now" | "publicBaseUrl" | "d1Stats">;

/**
 * One delta run: every page of Hevy's events feed since the cursor (newest
 * first, pageSize 10), `updated` events upserted and `deleted` ones turned into
 * tombstones, each page in one atomic batch. The cursor moves to the newest
 * event time only once every page is stored, so a run that fails midway is
 * simply done again. Runs only after the backfill has finished (its end sets the
 * first cursor).
 */
export async function runDelta(deps: SyncDeps, msg: DeltaMessage, options: DeltaOptions = defaultDeltaOptions, delivery: Delivery = FIRST_DELIVERY): Promise<void> {
  const row = await findJobConnection(deps.db, msg.userId);
  if (!row || row.status !== "active" || row.backfillState !== "done") return;
  const scope = scopeOf(row);
  if (!scope || (await deferWhilePaused(deps, row, msg, delivery))) return;
  const guard = stillCurrent(scope);

  const startedAt = deps.now();
  const runId = crypto.randomUUID();
  let requests = 0;
  const hevy = deps.hevy(await connectionApiKey(deps, row), { onRequest: () => requests++ });
  const cursor = row.eventsCursor ?? 0;
  const since = Math.max(0, cursor - EVENTS_OVERLAP_MS);
  let newest = cursor;
  let upserts = 0;
  let deletes = 0;
  const [, toRetry] = await runBatch(deps.d1, [
    sql`INSERT INTO sync_runs (id, user_id, kind, outcome, started_at) SELECT ${runId}, ${msg.userId}, 'delta', 'running', ${startedAt} WHERE ${guard}`,
    skippedToRetryStatement(msg.userId),
  ]);
  const finishRun = (outcome: "ok" | "failed" | "needs_reconnect", error: string | null) =>
    deps.db
      .update(syncRuns)
      .set({ outcome, error, finishedAt: deps.now(), upserts, deletes, hevyRequests: requests, d1RoundTrips: (deps.d1Stats?.roundTrips ?? 0) + 1 })
      .where(eq(syncRuns.id, runId));

  // The feed is paged by position while new events are prepended to it: pages
  // read after an edit are shifted, so an event can slip to a later page. A page
  // count that changes or an event seen twice shows that the feed moved.
  let firstPageCount: number | null = null;
  let moved = false;
  const seen = new Set<string>();
  const store = async (_page: number, { items: events, skipped }: Page<WorkoutEvent>) => {
    const updated: Workout[] = [];
    const deleted: Array<{ id: string; deletedAt: number }> = [];
    for (const event of events) {
      const key = event.type === "updated" ? `u:${event.workout.id}:${event.workout.updatedAt}` : `d:${event.id}:${event.deletedAt}`;
      if (seen.has(key)) moved = true;
      seen.add(key);
      if (event.type === "updated") {
        updated.push(event.workout);
        newest = Math.max(newest, event.workout.updatedAt);
      } else {
        const deletedAt = event.deletedAt ?? deps.now();
        deleted.push({ id: event.id, deletedAt });
        newest = Math.max(newest, deletedAt);
      }
    }
    const at = deps.now();
    const upsert = upsertWorkoutsStatements(scope, updated, at, guard, { announce: true });
    const remove = deleteWorkoutsStatements(scope, deleted, at, guard, { announce: true });
    const results = await runBatch(deps.d1, [
      ...upsert,
      ...remove,
      ...skippedStatements(scope, skipped, [...updated.map((w) => w.id), ...deleted.map((d) => d.id)], at),
    ]);
    // What changed, not what was read: the overlap re-reads events already applied.
    upserts += appliedCount(results, 0, upsert);
    deletes += appliedCount(results, upsert.length, remove);
    await queueDeliveries(deps, scope.userId, [...deliveriesOf(results, 0, upsert), ...deliveriesOf(results, upsert.length, remove)]);
  };

  try {
    let pageCount = 0;
    const load = async (page: number) => {
      const result = await hevy.getWorkoutEventsPage(since, page, WORKOUTS_PAGE_SIZE);
      if (firstPageCount === null) firstPageCount = result.pageCount;
      else if (result.pageCount !== firstPageCount) moved = true;
      pageCount = Math.max(pageCount, result.pageCount);
      return result;
    };
    await forEachPage([1], { concurrency: 1, load, store, policy: options.retry });
    // Pages that appeared while the feed was read hold older events pushed down by newer ones: read them too.
    for (let done = 1; done < pageCount; ) {
      const rest = Array.from({ length: pageCount - done }, (_, i) => done + 1 + i);
      done = pageCount;
      await forEachPage(rest, { concurrency: options.concurrency, load, store, policy: options.retry });
    }
    // Workouts Hevy sent that could not be stored: a few are asked for again on every run.
    upserts += await retrySkipped(deps, hevy, scope, options.retry, (toRetry?.results ?? []) as Array<{ key: string }>);
  } catch (err) {
    if (err instanceof HevyError && err.kind === "auth") {
      await markNeedsReconnect(deps, scope, runId, deps.now());
      return;
    }
    const message = err instanceof HevyError || err instanceof RetryLater ? err.message : "unexpected error";
    await deps.db.batch([finishRun("failed", `${message}; retrying`), noteRetry(deps.db, scope, err instanceof Error ? err : new Error(message), deps.now())]);
    throw err;
  }

  const webhook = row.webhookStatus === "failed" ? await resubscribe(deps, hevy, row) : null;
  const at = deps.now();
  await deps.db.batch([
    deps.db
      .update(hevyConnections)
      .set({
        // Never moves backwards: a slower, older run must not undo a newer one's progress.
        // When the feed moved under this run an event may have been skipped: the cursor
        // stays, and the next run reads the same span again (storing is idempotent).
        eventsCursor: sql`max(coalesce(${hevyConnections.eventsCursor}, 0), ${moved ? cursor : newest})`,
        lastSyncAt: at,
        lastError: skippedError(msg.userId),
        updatedAt: at,
        ...(webhook ?? {}),
      })
      .where(currentConnection(scope)),
    finishRun("ok", null),
    // An hourly run adds a row an hour: keep the last 30 days (an index range on (user_id, started_at)).
    deps.db.delete(syncRuns).where(and(eq(syncRuns.userId, msg.userId), lt(syncRuns.startedAt, at - SYNC_RUNS_KEPT_MS))),
  ]);
}

/** A webhook subscription that failed with a 5xx/timeout is tried again on the next delta. */
async function resubscribe(deps: SyncDeps, hevy: ReturnType<SyncDeps["hevy"]>, row: ConnectionRow) {
  const { authFailed: _authFailed, ...columns } = await subscribeWebhook(deps, hevy, row.userId, await storedWebhookSecret(deps, row));
  return columns;
}

/** The stored secret and auth token, or undefined when either is missing or no longer decrypts (a fresh pair is made then). */
async function storedWebhookSecret(deps: Pick<SyncDeps, "keyring">, row: ConnectionRow) {
  const secret = await openStored(deps.keyring, row.webhookSecretEnvelope, aad.webhookSecret(row.userId));
  const authToken = await openStored(deps.keyring, row.webhookAuthEnvelope, aad.webhookAuth(row.userId));
  return secret !== null && authToken !== null ? { secret, authToken } : undefined;
}
