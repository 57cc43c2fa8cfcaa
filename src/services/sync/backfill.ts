import { eq, sql } from "drizzle-orm";
import { type Batchable, runBatch } from "../../db/batch";
import { hevyConnections, syncRuns } from "../../db/schema";
import type { Deps } from "../../deps";
import { HevyError, TEMPLATES_PAGE_SIZE, WORKOUTS_PAGE_SIZE } from "../../hevy/client";
import type { ExerciseTemplate, Page, Workout } from "../../hevy/types";
import type { BackfillMessage } from "../../queue/messages";
import { findJobConnection } from "../connections";
import { connectionApiKey, deferWhilePaused, type Delivery, FIRST_DELIVERY, markNeedsReconnect, noteRetry } from "./connection-state";
import { forEachPage } from "./pages";
import { defaultRetryPolicy, RetryLater, type RetryPolicy, withHevyRetry } from "./retry";
import { currentConnection, type JobScope, scopeOf, stillCurrent } from "./scope";
import { skippedError, skippedStatements } from "./skipped";
import { connectionEvent, deliveriesIn, queueDeliveries } from "../webhook-events";
import { upsertWorkoutsStatements } from "./store";
import { sweepChunk } from "./sweep";
import { upsertTemplatesStatement } from "./templates";

export interface BackfillOptions {
  /** Pages one message handles: bounds Hevy requests and D1 batches per invocation. */
  pagesPerChunk: number;
  /** Hevy requests in flight at once within a chunk. */
  concurrency: number;
  retry: RetryPolicy;
}

export const defaultBackfillOptions: BackfillOptions = {
  pagesPerChunk: 20,
  concurrency: 4,
  retry: defaultRetryPolicy,
};

/** The events cursor starts this long before the backfill did, so edits made while it ran are not missed. */
export const CURSOR_SAFETY_MARGIN_MS = 5 * 60_000;

/** Walks of the workout list at most, each started again because Hevy reported a deletion during the one before. */
export const MAX_PASSES = 3;

export type SyncDeps = Pick<Deps, "db" | "d1" | "keyring" | "hevy" | "queue" | "webhookQueue" | "now" | "d1Stats">;

/**
 * One chunk of a backfill. Templates come first (pageSize 100), then workout
 * pages (pageSize 10) while page <= page_count — Hevy lists workouts in no date
 * order, so the walk never stops early. Each page is stored in one atomic batch
 * together with the progress it makes, and only while the connection is still
 * the one this run started under (scope.ts); the chunk then queues the next
 * one, so any history size stays far inside one invocation's limits. A
 * redelivered chunk starts after the last page already stored. Messages of a
 * superseded run (the user re-connected or asked for a sync) are dropped.
 */
export async function runBackfillChunk(
  deps: SyncDeps,
  msg: BackfillMessage,
  options: BackfillOptions = defaultBackfillOptions,
  delivery: Delivery = FIRST_DELIVERY,
): Promise<void> {
  const pass = msg.pass ?? 1;
  const row = await findJobConnection(deps.db, msg.userId);
  if (!row || row.backfillRunId !== msg.runId || row.backfillPass !== pass || row.status !== "active" || row.backfillState === "done") return;
  const scope = scopeOf(row, { id: msg.runId, pass });
  if (!scope || (await deferWhilePaused(deps, row, msg, delivery))) return;

  let requests = 0;
  const hevy = deps.hevy(await connectionApiKey(deps, row), { onRequest: () => requests++ });
  const db = deps.db;
  const now = deps.now();
  const current = currentConnection(scope);
  const guard = stillCurrent(scope);

  // The page count Hevy gave last. A 404 for a page past it ends the walk; a 404 for a page
  // inside it is a glitch unless the history shrank, which the workout count tells (SPEC §11).
  let knownPageCount = row.backfillPageCount ?? 0;
  const workoutsPage = async (page: number): Promise<Page<Workout>> => {
    try {
      const result = await hevy.getWorkoutsPage(page, WORKOUTS_PAGE_SIZE);
      knownPageCount = result.pageCount;
      return result;
    } catch (err) {
      if (!(err instanceof HevyError && err.status === 404)) throw err;
      if (page > knownPageCount) return pastTheEnd(page);
      knownPageCount = Math.ceil((await hevy.getWorkoutCount()) / WORKOUTS_PAGE_SIZE);
      if (page > knownPageCount) return pastTheEnd(page);
      throw new HevyError("transient", `Hevy answered 404 to workouts page ${page} of ${knownPageCount}`, 404);
    }
  };
  let roundTripsCounted = 0;
  /** Adds this chunk's Hevy requests and D1 round trips (counting the statement itself) to the sync run. */
  const countRequests = () => {
    const n = requests;
    requests = 0;
    const trips = (deps.d1Stats?.roundTrips ?? 0) + 1;
    const newTrips = trips - roundTripsCounted;
    roundTripsCounted = trips;
    return db
      .update(syncRuns)
      .set({ hevyRequests: sql`${syncRuns.hevyRequests} + ${n}`, d1RoundTrips: sql`${syncRuns.d1RoundTrips} + ${newTrips}` })
      .where(eq(syncRuns.id, msg.runId));
  };

  try {
    if (msg.phase === "templates") {
      await runBatch(deps.d1, [
        db
          .update(hevyConnections)
          .set({ backfillState: "running", backfillStartedAt: sql`coalesce(${hevyConnections.backfillStartedAt}, ${now})`, updatedAt: now })
          .where(current),
        sql`INSERT INTO sync_runs (id, user_id, kind, outcome, started_at) SELECT ${msg.runId}, ${msg.userId}, 'backfill', 'running', ${now}
          WHERE ${guard} ON CONFLICT (id) DO NOTHING`,
      ]);
      const last = await loadPages<ExerciseTemplate>(msg.page, options, (page) => hevy.getExerciseTemplatesPage(page, TEMPLATES_PAGE_SIZE), async (_page, result) => {
        await runBatch(deps.d1, [upsertTemplatesStatement(msg.userId, result.items, deps.now(), guard)]);
      });
      const next: BackfillMessage = last.page < last.pageCount
        ? { ...msg, page: last.page + 1 }
        : { ...msg, phase: "workouts", page: Math.max(1, row.backfillPagesDone + 1) };
      await countRequests();
      await deps.queue.send(next);
      return;
    }

    if (msg.phase === "sweep") {
      const more = await sweepChunk({ ...deps, hevy }, scope, row.walkStartedAt ?? 0, options.retry);
      if (more) {
        // Progress as far as the stall detector is concerned (cron resume, POST …/sync).
        await db.batch([db.update(hevyConnections).set({ updatedAt: deps.now() }).where(current), countRequests()]);
        await deps.queue.send(msg);
      } else {
        await finish(deps, scope, row.backfillPageCount ?? 0, countRequests());
      }
      return;
    }

    const start = Math.max(msg.page, row.backfillPagesDone + 1);
    // A pass begins at page 1: what is marked from now on is what this pass saw (sweep.ts).
    if (start === 1) await db.update(hevyConnections).set({ walkStartedAt: now, updatedAt: now }).where(current);
    const walkStart = start === 1 ? now : (row.walkStartedAt ?? row.backfillStartedAt ?? now);
    // Pages stored so far in this chunk; progress is the contiguous prefix, so a
    // redelivered chunk never skips a page that failed while later ones landed.
    const stored = new Set<number>();
    const prefix = (including?: number) => {
      let p = start - 1;
      while (stored.has(p + 1) || p + 1 === including) p++;
      return p;
    };
    const alreadyComplete = row.backfillPageCount !== null && start > row.backfillPageCount;
    const last = alreadyComplete
      ? { page: row.backfillPageCount!, pageCount: row.backfillPageCount! }
      : await loadPages<Workout>(start, options, (page) => workoutsPage(page), async (page, result) => {
      if (page > result.pageCount) return; // past the end: nothing to store, no progress to record
      const at = deps.now();
      const ids = result.items.map((w) => w.id);
      const writes: Batchable[] = [
        ...upsertWorkoutsStatements(scope, result.items, at, guard),
        ...skippedStatements(scope, result.skipped, ids, at),
      ];
      // A reconciling walk marks every live workout it saw, stored anew or not.
      if (row.backfillReconcile) writes.push(markSeen(msg.userId, ids, at, guard));
      writes.push(
        db
          .update(hevyConnections)
          .set({
            backfillState: "running",
            backfillPagesDone: sql`max(${hevyConnections.backfillPagesDone}, ${prefix(page)})`,
            backfillPageCount: result.pageCount,
            // Counted exactly at the end of each chunk; between, a cheap running total.
            backfillWorkoutsSynced: sql`${hevyConnections.backfillWorkoutsSynced} + ${result.items.length}`,
            lastError: skippedError(msg.userId),
            updatedAt: at,
          })
          .where(current),
        db.update(syncRuns).set({ upserts: sql`${syncRuns.upserts} + ${result.items.length}` }).where(eq(syncRuns.id, msg.runId)),
      );
      await runBatch(deps.d1, writes);
      stored.add(page);
    });

    const at = deps.now();
    if (last.page < last.pageCount) {
      await db.batch([
        db
          .update(hevyConnections)
          .set({ backfillPagesDone: sql`max(${hevyConnections.backfillPagesDone}, ${prefix()})`, backfillWorkoutsSynced: workoutsStored(msg.userId), updatedAt: at })
          .where(current),
        countRequests(),
      ]);
      await deps.queue.send({ ...msg, page: last.page + 1 });
      return;
    }
    // Hevy pages /v1/workouts by position: a workout deleted while the walk ran
    // shifts later ones onto pages already read, and the shifted ones never show in
    // the events feed (they did not change). Deletions do show there, so one look
    // at the feed since this pass began tells whether to walk the list again.
    if (pass < MAX_PASSES && (await deletedSince(hevy, walkStart - CURSOR_SAFETY_MARGIN_MS, options))) {
      await db.batch([
        countRequests(),
        // Chunks of this pass still in the queue (a redelivery) are dropped from here on.
        db.update(hevyConnections).set({ backfillPass: pass + 1, backfillPagesDone: 0, backfillPageCount: last.pageCount, updatedAt: at }).where(current),
      ]);
      await deps.queue.send({ ...msg, phase: "workouts", page: 1, pass: pass + 1 });
      return;
    }
    if (row.backfillReconcile) {
      await db.batch([
        db.update(hevyConnections).set({ backfillPagesDone: last.pageCount, backfillPageCount: last.pageCount, updatedAt: at }).where(current),
        countRequests(),
      ]);
      await deps.queue.send({ ...msg, phase: "sweep", page: 1 });
      return;
    }
    await finish(deps, scope, last.pageCount, countRequests());
  } catch (err) {
    if (err instanceof HevyError && err.kind === "auth") {
      await countRequests();
      await markNeedsReconnect(deps, scope, msg.runId, deps.now());
      return;
    }
    if (err instanceof RetryLater) await noteRetry(db, scope, err, deps.now());
    if (requests > 0) await countRequests();
    throw err;
  }
}

/** The run's closing batch: done, exact counts, the events cursor from the backfill's start. */
async function finish(deps: SyncDeps, scope: JobScope, pageCount: number, counted: Batchable) {
  const at = deps.now();
  // hevy.backfill.completed (SPEC §15): once, when this batch is the one that marks the run done.
  const completed = connectionEvent(scope.userId, "hevy.backfill.completed", sql`json_object('workouts_synced', ${workoutsStored(scope.userId)})`,
    sql`EXISTS (SELECT 1 FROM hevy_connections WHERE ${currentConnection(scope)} AND hevy_connections.backfill_state <> 'done')`, at);
  const results = await runBatch(deps.d1, [
    ...completed,
    // A skipped record without an id can only be met again by a walk: one this walk did not meet is gone from Hevy.
    sql`DELETE FROM hevy_skipped_workouts WHERE user_id = ${scope.userId} AND workout_key LIKE 'unidentified:%'
      AND last_seen_at < (SELECT c.walk_started_at FROM hevy_connections c WHERE c.user_id = ${scope.userId}) AND ${stillCurrent(scope)}`,
    deps.db
      .update(hevyConnections)
      .set({
        backfillState: "done",
        backfillPagesDone: pageCount,
        backfillPageCount: pageCount,
        backfillWorkoutsSynced: workoutsStored(scope.userId),
        backfillReconcile: false,
        eventsCursor: sql`${hevyConnections.backfillStartedAt} - ${CURSOR_SAFETY_MARGIN_MS}`,
        lastSyncAt: at,
        lastError: skippedError(scope.userId),
        updatedAt: at,
      })
      .where(currentConnection(scope)),
    counted,
    // `ok` only while this run is still the connection's: a superseded one says so.
    sql`UPDATE sync_runs SET outcome = CASE WHEN ${stillCurrent(scope)} THEN 'ok' ELSE 'superseded' END, finished_at = ${at}
      WHERE id = ${scope.run?.id ?? null} AND outcome = 'running'`,
  ]);
  await queueDeliveries(deps, scope.userId, deliveriesIn(results, [1]));
}

const pastTheEnd = (page: number): Page<Workout> => ({ page, pageCount: page - 1, items: [], skipped: [] });

/** Marks the live workouts a reconciling walk saw (sweep.ts removes the unmarked ones Hevy no longer has). */
function markSeen(userId: string, ids: string[], at: number, guard: ReturnType<typeof stillCurrent>) {
  return sql`UPDATE hevy_workouts SET synced_at = ${at}
    WHERE user_id = ${userId} AND id IN (SELECT value FROM json_each(${JSON.stringify(ids)})) AND deleted_at IS NULL AND ${guard}`;
}

/** Whether Hevy's events feed reports any deletion after `since` (reads only as far as it must). */
async function deletedSince(hevy: ReturnType<SyncDeps["hevy"]>, since: number, options: BackfillOptions): Promise<boolean> {
  for (let page = 1, pageCount = 1; page <= pageCount; page++) {
    const result = await withHevyRetry(() => hevy.getWorkoutEventsPage(since, page, WORKOUTS_PAGE_SIZE), options.retry);
    if (result.items.some((e) => e.type === "deleted")) return true;
    pageCount = result.pageCount;
  }
  return false;
}

const workoutsStored = (userId: string) =>
  sql`(SELECT count(*) FROM hevy_workouts WHERE user_id = ${userId} AND deleted_at IS NULL)`;

/**
 * Loads page `first` (which tells the page count), then the rest of this chunk
 * concurrently, storing each page as it arrives. Returns the last page of the
 * chunk and the freshest page count. A page count of 0 (an empty account) ends
 * at once.
 */
async function loadPages<T>(
  first: number,
  options: BackfillOptions,
  load: (page: number) => Promise<Page<T>>,
  store: (page: number, result: Page<T>) => Promise<void>,
): Promise<{ page: number; pageCount: number }> {
  let pageCount = 0;
  const track = async (page: number, result: Page<T>) => {
    pageCount = Math.max(pageCount, result.pageCount);
    await store(page, result);
  };
  await forEachPage([first], { concurrency: 1, load, store: track, policy: options.retry });
  if (pageCount < first) return { page: pageCount, pageCount };
  const lastOfChunk = Math.min(first + options.pagesPerChunk - 1, pageCount);
  const rest = Array.from({ length: lastOfChunk - first }, (_, i) => first + 1 + i);
  await forEachPage(rest, { concurrency: options.concurrency, load, store: track, policy: options.retry });
  return { page: lastOfChunk, pageCount };
}
