import { and, eq, type SQL, sql } from "drizzle-orm";
import { hevyConnections } from "../../db/schema";
import type { JobConnection } from "../connections";

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
  /** The zone the user's weekly rollups were in when the job started (src/services/metrics/rollups.ts). */
  rollupZone: string | null;
}

/** The part of a scope that names the connection (and run). */
export type ConnectionScope = Pick<JobScope, "userId" | "epoch" | "run">;

/** The scope of a job starting now on `row`; null when the row has no usable key (disconnected). */
export function scopeOf(row: Pick<JobConnection, "userId" | "keyEpoch" | "rollupZone">, run?: JobScope["run"]): JobScope | null {
  if (!row.keyEpoch) return null;
  const scope: JobScope = { userId: row.userId, epoch: row.keyEpoch, rollupZone: row.rollupZone };
  return run === undefined ? scope : { ...scope, run };
}

/** SQL: true while the connection is still the one the job started under. */
export function stillCurrent(scope: ConnectionScope): SQL {
  const run = scope.run === undefined ? sql`` : sql` AND c.backfill_run_id = ${scope.run.id} AND c.backfill_pass = ${scope.run.pass}`;
  return sql`EXISTS (SELECT 1 FROM hevy_connections c WHERE c.user_id = ${scope.userId} AND c.key_epoch = ${scope.epoch}${run})`;
}

/** The same condition as a WHERE for updates of the connection row itself. */
export function currentConnection(scope: ConnectionScope): SQL {
  const conditions = [eq(hevyConnections.userId, scope.userId), eq(hevyConnections.keyEpoch, scope.epoch)];
  if (scope.run !== undefined) conditions.push(eq(hevyConnections.backfillRunId, scope.run.id), eq(hevyConnections.backfillPass, scope.run.pass));
  return and(...conditions)!;
}
