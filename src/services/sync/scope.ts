import { and, eq, type SQL, sql } from "drizzle-orm";
import { hevyConnections } from "../../db/schema";
import type { ConnectionRow } from "../connections";

/**
 * What a sync job started under: the user, the epoch of the stored key (a new value at every
 * connect, none once disconnected) and, for a backfill chunk, its run. SPEC §11: a job writes
 * only while the connection is still this one, and the condition is part of the write itself
 * — each statement of the job's D1 batch carries `stillCurrent(scope)` — so a purge,
 * disconnect, account switch or new key landing between the job's Hevy read and its write
 * turns that write into a no-op, whatever the interleaving.
 */
export interface JobScope {
  userId: string;
  epoch: string;
  /** A backfill chunk's run, and the walk of the list it belongs to. */
  run?: { id: string; pass: number };
}

/** The scope of a job starting now on `row`; null when the row has no usable key (disconnected). */
export function scopeOf(row: Pick<ConnectionRow, "userId" | "keyEpoch">, run?: JobScope["run"]): JobScope | null {
  if (!row.keyEpoch) return null;
  return run === undefined ? { userId: row.userId, epoch: row.keyEpoch } : { userId: row.userId, epoch: row.keyEpoch, run };
}

/** SQL: true while the connection is still the one the job started under. */
export function stillCurrent(scope: JobScope): SQL {
  const run = scope.run === undefined ? sql`` : sql` AND c.backfill_run_id = ${scope.run.id} AND c.backfill_pass = ${scope.run.pass}`;
  return sql`EXISTS (SELECT 1 FROM hevy_connections c WHERE c.user_id = ${scope.userId} AND c.key_epoch = ${scope.epoch}${run})`;
}

/** The same condition as a WHERE for updates of the connection row itself. */
export function currentConnection(scope: JobScope): SQL {
  const conditions = [eq(hevyConnections.userId, scope.userId), eq(hevyConnections.keyEpoch, scope.epoch)];
  if (scope.run !== undefined) conditions.push(eq(hevyConnections.backfillRunId, scope.run.id), eq(hevyConnections.backfillPass, scope.run.pass));
  return and(...conditions)!;
}
