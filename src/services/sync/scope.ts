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
  runId?: string;
}

export class ConnectionChanged extends Error {
  override name = "ConnectionChanged";
}

/** The scope of a job starting now on `row`; null when the row has no usable key (disconnected). */
export function scopeOf(row: Pick<ConnectionRow, "userId" | "keyEpoch">, runId?: string): JobScope | null {
  if (!row.keyEpoch) return null;
  return runId === undefined ? { userId: row.userId, epoch: row.keyEpoch } : { userId: row.userId, epoch: row.keyEpoch, runId };
}

/** SQL: true while the connection is still the one the job started under. */
export function stillCurrent(scope: JobScope): SQL {
  const run = scope.runId === undefined ? sql`` : sql` AND c.backfill_run_id = ${scope.runId}`;
  return sql`EXISTS (SELECT 1 FROM hevy_connections c WHERE c.user_id = ${scope.userId} AND c.key_epoch = ${scope.epoch}${run})`;
}

/** The same condition as a WHERE for updates of the connection row itself. */
export function currentConnection(scope: JobScope): SQL {
  const conditions = [eq(hevyConnections.userId, scope.userId), eq(hevyConnections.keyEpoch, scope.epoch)];
  if (scope.runId !== undefined) conditions.push(eq(hevyConnections.backfillRunId, scope.runId));
  return and(...conditions)!;
}
