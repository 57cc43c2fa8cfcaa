import { type SQL, sql } from "drizzle-orm";
import { runBatch } from "../../db/batch";
import { HevyError, type HevyClient } from "../../hevy/client";
import type { SyncDeps } from "./backfill";
import { RetryLater, type RetryPolicy } from "./retry";
import { type JobScope, stillCurrent } from "./scope";
import { fetchWorkoutOrSkip, skippedStatements } from "./skipped";
import { deleteWorkoutsStatements, upsertWorkoutsStatements } from "./store";

// The last step of a reconciling backfill (a re-connect whose events cursor cannot
// cover the gap, or stored rows of unknown origin): removing stored workouts Hevy
// no longer has. The walk marked every live workout it saw (synced_at ≥ the pass's
// start); an unmarked one is only a candidate — an offset-paged walk can miss a
// workout that shifted under it — so each is asked for by id before anything goes:
// Hevy's 404 removes it (a tombstone), an answer stores it. So a reconciliation
// never removes a workout that still exists in Hevy, however the pages moved.

/** Candidates checked per message: one Hevy request each. */
export const SWEEP_BATCH = 20;

/** Checks the next candidates; true when more remain. */
export async function sweepChunk(
  deps: Pick<SyncDeps, "d1" | "now"> & { hevy: HevyClient },
  scope: JobScope,
  walkStartedAt: number,
  retry: RetryPolicy,
): Promise<boolean> {
  const { results } = await deps.d1
    .prepare(`SELECT id FROM hevy_workouts WHERE user_id = ? AND deleted_at IS NULL AND synced_at < ? ORDER BY id LIMIT ?`)
    .bind(scope.userId, walkStartedAt, SWEEP_BATCH + 1)
    .all<{ id: string }>();
  const guard = stillCurrent(scope);
  for (const { id } of results.slice(0, SWEEP_BATCH)) {
    let fetched: Awaited<ReturnType<typeof fetchWorkoutOrSkip>> | null = null;
    try {
      fetched = await fetchWorkoutOrSkip(deps.hevy, id, retry);
    } catch (err) {
      // A 401 stops the run; a 429 sends the chunk back to wait the pause out. Any other failure
      // leaves the candidate as it is: in doubt, a workout is kept, never removed.
      if ((err instanceof HevyError && err.kind === "auth") || (err instanceof RetryLater && err.rateLimited)) throw err;
    }
    const at = deps.now();
    if (fetched === null) {
      await runBatch(deps.d1, [touch(scope.userId, id, at, guard)]);
      continue;
    }
    const { workout, skipped } = fetched;
    await runBatch(deps.d1, [
      ...(workout ? upsertWorkoutsStatements(scope, [workout], at, guard) : []),
      // Hevy's 404 is the only answer that removes; a record Hevy serves badly stays, noted as skipped.
      ...(!workout && !skipped ? deleteWorkoutsStatements(scope, [{ id, deletedAt: at }], at, guard) : []),
      ...(skipped ? skippedStatements(scope, [skipped], [], at) : []),
      touch(scope.userId, id, at, guard),
    ]);
  }
  return results.length > SWEEP_BATCH;
}

/** Marks a checked candidate as seen, whatever the version guard did with Hevy's copy. */
const touch = (userId: string, id: string, at: number, guard: SQL) =>
  sql`UPDATE hevy_workouts SET synced_at = ${at} WHERE user_id = ${userId} AND id = ${id} AND ${guard}`;
