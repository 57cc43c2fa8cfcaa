import { and, eq, getTableColumns, ne, sql } from "drizzle-orm";
import { runBatch } from "../db/batch";
import type { Db } from "../db/client";
import { workoutKeys } from "../db/keys";
import {
  hevyConnections,
  hevyExercises,
  hevyExerciseTemplates,
  hevySets,
  hevyPrs,
  hevySkippedWorkouts,
  hevyUserKeys,
  hevyWeeks,
  hevyWeekTemplates,
  hevyWorkouts,
  syncRuns,
  webhookAttempts,
  webhookDeliveries,
  webhookEvents,
} from "../db/schema";
import type { Deps } from "../deps";
import { KeyringError, timingSafeEqualStrings } from "../lib/crypto";
import { AppError } from "../lib/errors";
import { type DeletedExportRow, deleteExportRowsStatement, removeExportFiles } from "./exports";


import { isoOrNull, isoUtc } from "../lib/time";
import type { SyncMessage } from "../queue/messages";
import { pauseLeftSeconds, sendAfterPause } from "./sync/connection-state";
import { countSkipped } from "./sync/skipped";
import { aad, openStored, pruneWebhookRoutes, subscribeWebhook, webhookUrl } from "./webhook-subscription";
import { connectionEvent, deliveriesIn, queueDeliveries } from "./webhook-events";

export type ConnectionRow = typeof hevyConnections.$inferSelect;

export interface ConnectionView {
  status: ConnectionRow["status"];
  hevy_user: { id: string; name: string };
  webhook: { status: ConnectionRow["webhookStatus"]; url: string | null };
  backfill: { state: ConnectionRow["backfillState"]; pages_done: number; page_count: number | null; workouts_synced: number };
  /** Workouts Hevy sent that could not be stored yet (SPEC §11); `last_error` names one. */
  skipped_workouts: number;
  last_sync_at: string | null;
  last_error: string | null;
  connected_at: string;
}

/** A queued or running backfill with no progress for this long is considered stalled. */
export const BACKFILL_STALL_MS = 10 * 60_000;

export const notConnected = () =>
  new AppError(404, "not_connected", "Hevy is not connected", "Connect Hevy first: PUT /api/v1/connections/hevy.");

/** The user's connection, unless they disconnected it (a disconnected row only keeps what a re-connect needs). */
export async function findConnection(db: Db, userId: string): Promise<ConnectionRow | undefined> {
  return db.select().from(hevyConnections).where(and(eq(hevyConnections.userId, userId), ne(hevyConnections.status, "disconnected"))).get();
}

/** What a sync job works with: the connection, and the zone the user's weekly rollups are in (null: none yet). */
export type JobConnection = ConnectionRow & { rollupZone: string | null };

/** findConnection for a sync job: the same row, with the rollup zone its writes need, in the same query. */
export async function findJobConnection(db: Db, userId: string): Promise<JobConnection | undefined> {
  return db
    .select({
      ...getTableColumns(hevyConnections),
      // Qualified by hand: drizzle writes a column of the outer table unqualified, which inside
      // the subquery would name r.user_id.
      rollupZone: sql<string | null>`(SELECT r.zone FROM hevy_rollup_state r WHERE r.user_id = hevy_connections.user_id)`,
    })
    .from(hevyConnections)
    .where(and(eq(hevyConnections.userId, userId), ne(hevyConnections.status, "disconnected")))
    .get();
}

/** The row whatever its status, disconnected included. */
export async function findConnectionRow(db: Db, userId: string): Promise<ConnectionRow | undefined> {
  return db.select().from(hevyConnections).where(eq(hevyConnections.userId, userId)).get();
}

async function requireConnection(db: Db, userId: string): Promise<ConnectionRow> {
  const row = await findConnection(db, userId);
  if (!row) throw notConnected();
  return row;
}

/** The connection as its owner sees it. Never includes the Hevy key in any form. */
export async function connectionView(deps: Pick<Deps, "db" | "keyring" | "publicBaseUrl">, row: ConnectionRow): Promise<ConnectionView> {
  // Under a KEY_ENCRYPTION_KEY retired too early the view still answers, without the URL.
  const secret = await openStored(deps.keyring, row.webhookSecretEnvelope, aad.webhookSecret(row.userId));
  const url = secret === null ? null : webhookUrl(deps.publicBaseUrl, secret);
  return {
    status: row.status,
    hevy_user: { id: row.hevyUserId, name: row.hevyUserName },
    webhook: { status: row.webhookStatus, url },
    backfill: {
      state: row.backfillState,
      pages_done: row.backfillPagesDone,
      page_count: row.backfillPageCount,
      workouts_synced: row.backfillWorkoutsSynced,
    },
    skipped_workouts: await countSkipped(deps.db, row.userId),
    last_sync_at: isoOrNull(row.lastSyncAt),
    last_error: row.lastError,
    connected_at: isoUtc(row.createdAt),
  };
}

export async function getConnectionView(deps: Deps, userId: string): Promise<ConnectionView> {
  return connectionView(deps, await requireConnection(deps.db, userId));
}

/** The next backfill message for a run that has `pagesDone` workout pages of its pass `pass` stored. */
export function backfillResumeMessage(userId: string, runId: string, pagesDone: number, pageCount: number | null, pass = 1): SyncMessage {
  const onPass = pass > 1 ? { pass } : {};
  return pageCount === null
    ? { type: "backfill", userId, runId, phase: "templates", page: 1, ...onPass }
    : { type: "backfill", userId, runId, phase: "workouts", page: pagesDone + 1, ...onPass };
}

/**
 * A new backfill run: its sync_runs row, and any run of the user still marked running is
 * superseded by it (its chunks are dropped by run id), so none stays `running` for ever.
 */
export function startRunStatements(db: Db, userId: string, runId: string, now: number) {
  return [
    db
      .update(syncRuns)
      .set({ outcome: "superseded", finishedAt: now })
      .where(and(eq(syncRuns.userId, userId), eq(syncRuns.kind, "backfill"), eq(syncRuns.outcome, "running"))),
    backfillRunRow(db, userId, runId, now),
  ];
}

const backfillRunRow = (db: Db, userId: string, runId: string, now: number) =>
  db.insert(syncRuns).values({ id: runId, userId, kind: "backfill", outcome: "running", startedAt: now }).onConflictDoNothing();

/** The ids of a user's outgoing webhook events about Hevy data (not `ping`). */
const hevyEventIds = (userId: string) => sql`(SELECT id FROM webhook_events WHERE user_id = ${userId} AND type LIKE 'hevy.%')`;

/** Statements deleting every Hevy row of one user (workouts, exercises, sets, custom templates, sync runs, skipped notes, PRs, rollups, the user's key). */
export function purgeStatements(db: Db, userId: string) {
  return [
    db.delete(hevySets).where(sql`${hevySets.workoutKey} IN ${workoutKeys(userId)}`),
    db.delete(hevyExercises).where(sql`${hevyExercises.workoutKey} IN ${workoutKeys(userId)}`),
    db.delete(hevyWorkouts).where(eq(hevyWorkouts.userId, userId)),
    db.delete(hevyExerciseTemplates).where(eq(hevyExerciseTemplates.userId, userId)),
    db.delete(syncRuns).where(eq(syncRuns.userId, userId)),
    db.delete(hevySkippedWorkouts).where(eq(hevySkippedWorkouts.userId, userId)),
    db.delete(hevyPrs).where(eq(hevyPrs.userId, userId)),
    // The rollups of no workouts are empty: the state row (the user's zone, no Hevy data) stays valid.
    db.delete(hevyWeeks).where(eq(hevyWeeks.userId, userId)),
    db.delete(hevyWeekTemplates).where(eq(hevyWeekTemplates.userId, userId)),
    db.delete(hevyUserKeys).where(eq(hevyUserKeys.userId, userId)),
    // Outgoing webhook events carry workouts: they go too, with their deliveries (pending ones are
    // never sent) and attempts. The endpoints stay: they are the API consumer's, not Hevy data.
    db.delete(webhookAttempts).where(and(eq(webhookAttempts.userId, userId), sql`${webhookAttempts.eventId} IN ${hevyEventIds(userId)}`)),
    db.delete(webhookDeliveries).where(and(eq(webhookDeliveries.userId, userId), sql`${webhookDeliveries.eventId} IN ${hevyEventIds(userId)}`)),
    db.delete(webhookEvents).where(and(eq(webhookEvents.userId, userId), sql`${webhookEvents.type} LIKE 'hevy.%'`)),
  ] as const;
}

/** The stored Hevy key; a 409 asking for the key again when it is under a retired KEY_ENCRYPTION_KEY. */
async function decryptApiKey(deps: Deps, row: ConnectionRow): Promise<string> {
  if (row.apiKeyEnvelope === null) throw notConnected();
  try {
    return (await deps.keyring.decrypt(row.apiKeyEnvelope, aad.apiKey(row.userId))).plaintext;
  } catch (err) {
    if (!(err instanceof KeyringError)) throw err;
    throw new AppError(409, "key_unreadable", "The stored Hevy key cannot be read",
      "The stored Hevy API key can no longer be decrypted. Paste your Hevy API key again (PUT /api/v1/connections/hevy) to resume.");
  }
}

/**
 * DELETE /connections/hevy: best-effort unsubscribe, then forget the key. Without
 * purge the rows stay, and so does what a re-connect needs to reconcile them
 * cheaply (the Hevy account and the events cursor): the row turns `disconnected`,
 * its key epoch cleared so jobs in flight write nothing more. With purge the row
 * and every Hevy row of the user go in one batch.
 */
export async function disconnectHevy(deps: Deps, userId: string, purge: boolean): Promise<void> {
  const row = await requireConnection(deps.db, userId);
  await unsubscribeOwnWebhook(deps, row);
  if (!purge) {
    await deps.db
      .update(hevyConnections)
      .set({
        // Hevy's pause stays: a re-connect while it lasts does not call Hevy (connectHevy).
        status: "disconnected", apiKeyEnvelope: null, keyEpoch: null,
        webhookStatus: "unavailable", webhookSecretDigest: null, webhookSecretEnvelope: null, webhookAuthEnvelope: null,
        lastError: null, updatedAt: deps.now(),
      })
      .where(eq(hevyConnections.userId, userId));
    await pruneWebhookRoutes(deps, userId);
    return;
  }
  // CSV exports are copies of the same Hevy data: their rows go in the same batch, then files and open uploads.
  const results = await deps.db.batch([
    deps.db.delete(hevyConnections).where(eq(hevyConnections.userId, userId)),
    ...purgeStatements(deps.db, userId),
    deleteExportRowsStatement(deps.db, userId),
  ]);
  await pruneWebhookRoutes(deps, userId);
  await removeExportFiles(deps, deps.exportsBucket, userId, results.at(-1) as DeletedExportRow[]);
}

/**
 * Deletes Hevy's webhook subscription only when it points at this connection's
 * URL: a Hevy account has one subscription, and two VitalTrends users may have
 * connected the same account — the other's must survive this one leaving. Best
 * effort (Hevy down, key revoked or paused): a delivery to the forgotten secret
 * answers 404 from now on either way.
 */
async function unsubscribeOwnWebhook(deps: Deps, row: ConnectionRow): Promise<void> {
  if (row.webhookStatus === "unavailable" || pauseLeftSeconds(row, deps.now()) > 0) return;
  try {
    const secret = await openStored(deps.keyring, row.webhookSecretEnvelope, aad.webhookSecret(row.userId));
    if (secret === null) return;
    const ours = webhookUrl(deps.publicBaseUrl, secret);
    const hevy = deps.hevy(await decryptApiKey(deps, row));
    const current = await hevy.getWebhookSubscription();
    if (current && (await timingSafeEqualStrings(current.url, ours))) await hevy.deleteWebhookSubscription();
  } catch {
    // Best effort, as above.
  }
}

/** POST /connections/hevy/webhook-secret: the old URL stops working before Hevy learns the new one. */
export async function rotateWebhookSecret(deps: Deps, userId: string): Promise<ConnectionView> {
  const row = await requireConnection(deps.db, userId);
  const paused = pauseLeftSeconds(row, deps.now()) > 0;
  const webhook = await subscribeWebhook(deps, paused ? null : deps.hevy(await decryptApiKey(deps, row)), userId);
  const { authFailed, ...columns } = webhook;
  const now = deps.now();
  const update = deps.db
    .update(hevyConnections)
    .set({
      ...columns,
      ...(authFailed ? { status: "needs_reconnect" as const, lastError: "Hevy rejected the API key; paste a new one." } : {}),
      updatedAt: now,
    })
    .where(eq(hevyConnections.userId, userId));
  if (authFailed) {
    // The flip to needs_reconnect is announced (SPEC §15) when this update is the one that makes it.
    const [announce, fanOut] = connectionEvent(userId, "hevy.connection.needs_reconnect", sql`json_object('reason', 'Hevy rejected the API key; paste a new one.')`,
      sql`EXISTS (SELECT 1 FROM hevy_connections WHERE user_id = ${userId} AND status = 'active')`, now);
    const results = await runBatch(deps.d1, [announce!, fanOut!, update]);
    await queueDeliveries(deps, userId, deliveriesIn(results, [1]));
  } else {
    await update;
  }
  await pruneWebhookRoutes(deps, userId);
  return getConnectionView(deps, userId);
}

/** POST /connections/hevy/sync: a delta now, or the rest of an unfinished backfill. */
export async function requestSync(deps: Deps, userId: string): Promise<ConnectionView> {
  const row = await requireConnection(deps.db, userId);
  if (row.status === "needs_reconnect") {
    throw new AppError(409, "needs_reconnect", "Hevy needs a new API key",
      "Hevy rejected the stored key. Paste a new one with PUT /api/v1/connections/hevy.");
  }
  if (row.backfillState === "done") {
    await sendAfterPause(deps, row, { type: "delta", userId, reason: "manual" });
    return connectionView(deps, row);
  }
  // A backfill that made progress recently is still on its way: queueing another
  // run would only redo its pages. One that stalled (a lost message) or failed resumes.
  const inFlight = row.backfillState === "queued" || row.backfillState === "running";
  if (inFlight && deps.now() - row.updatedAt < BACKFILL_STALL_MS) return connectionView(deps, row);
  const runId = crypto.randomUUID();
  await runBatch(deps.d1, [
    deps.db
      .update(hevyConnections)
      .set({ backfillRunId: runId, backfillState: "queued", updatedAt: deps.now() })
      .where(eq(hevyConnections.userId, userId)),
    ...startRunStatements(deps.db, userId, runId, deps.now()),
  ]);
  await sendAfterPause(deps, row, backfillResumeMessage(userId, runId, row.backfillPagesDone, row.backfillPageCount, row.backfillPass));
  return getConnectionView(deps, userId);
}
