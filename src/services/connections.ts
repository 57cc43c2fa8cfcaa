import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import {
  hevyConnections,
  hevyExercises,
  hevyExerciseTemplates,
  hevySets,
  hevyWorkouts,
  syncRuns,
} from "../db/schema";
import type { Deps } from "../deps";
import { HevyError } from "../hevy/client";
import type { HevyUser } from "../hevy/types";
import { AppError } from "../lib/errors";
import { deleteUserExports } from "./exports";
import { isoOrNull, isoUtc } from "../lib/time";
import type { SyncMessage } from "../queue/messages";
import { aad, subscribeWebhook, webhookUrl } from "./webhook-subscription";

export type ConnectionRow = typeof hevyConnections.$inferSelect;

export interface ConnectionView {
  status: ConnectionRow["status"];
  hevy_user: { id: string; name: string };
  webhook: { status: ConnectionRow["webhookStatus"]; url: string | null };
  backfill: { state: ConnectionRow["backfillState"]; pages_done: number; page_count: number | null; workouts_synced: number };
  last_sync_at: string | null;
  last_error: string | null;
  connected_at: string;
}

/** A queued or running backfill with no progress for this long is considered stalled. */
export const BACKFILL_STALL_MS = 10 * 60_000;

export const notConnected = () =>
  new AppError(404, "not_connected", "Hevy is not connected", "Connect Hevy first: PUT /api/v1/connections/hevy.");

export async function findConnection(db: Db, userId: string): Promise<ConnectionRow | undefined> {
  return db.select().from(hevyConnections).where(eq(hevyConnections.userId, userId)).get();
}

async function requireConnection(db: Db, userId: string): Promise<ConnectionRow> {
  const row = await findConnection(db, userId);
  if (!row) throw notConnected();
  return row;
}

/** The connection as its owner sees it. Never includes the Hevy key in any form. */
export async function connectionView(deps: Pick<Deps, "keyring" | "publicBaseUrl">, row: ConnectionRow): Promise<ConnectionView> {
  let url: string | null = null;
  if (row.webhookSecretEnvelope) {
    const { plaintext } = await deps.keyring.decrypt(row.webhookSecretEnvelope, aad.webhookSecret(row.userId));
    url = webhookUrl(deps.publicBaseUrl, plaintext);
  }
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
    last_sync_at: isoOrNull(row.lastSyncAt),
    last_error: row.lastError,
    connected_at: isoUtc(row.createdAt),
  };
}

export async function getConnectionView(deps: Deps, userId: string): Promise<ConnectionView> {
  return connectionView(deps, await requireConnection(deps.db, userId));
}

async function validateKey(deps: Deps, apiKey: string): Promise<HevyUser> {
  try {
    return await deps.hevy(apiKey).getUserInfo();
  } catch (err) {
    if (!(err instanceof HevyError)) throw err;
    if (err.kind === "auth") {
      throw new AppError(422, "hevy_key_invalid", "Hevy rejected the API key",
        "Hevy did not accept this API key. Copy it again from Hevy (Settings → Developer); the API needs Hevy Pro.");
    }
    throw new AppError(502, "hevy_unavailable", "Hevy is unavailable",
      "Hevy could not be reached to check the key. Nothing was stored; try again in a minute.");
  }
}

/** The next backfill message for a run that has `pagesDone` workout pages stored. */
export function backfillResumeMessage(userId: string, runId: string, pagesDone: number, pageCount: number | null): SyncMessage {
  return pageCount === null
    ? { type: "backfill", userId, runId, phase: "templates", page: 1 }
    : { type: "backfill", userId, runId, phase: "workouts", page: pagesDone + 1 };
}

/**
 * PUT /connections/hevy. Validates the key with Hevy before anything is stored,
 * then stores it encrypted, subscribes the webhook and queues work: a first
 * backfill for a new connection (or a different Hevy account), the rest of an
 * unfinished backfill, or a delta from the cursor when the backfill was done —
 * never a second full backfill.
 */
export async function connectHevy(deps: Deps, userId: string, apiKey: string): Promise<ConnectionView> {
  const hevyUser = await validateKey(deps, apiKey);
  const existing = await findConnection(deps.db, userId);
  const sameAccount = existing?.hevyUserId === hevyUser.id;
  const webhook = await subscribeWebhook(deps, deps.hevy(apiKey), userId);
  const now = deps.now();
  const runId = crypto.randomUUID();

  let backfill: Pick<ConnectionRow, "backfillState" | "backfillPagesDone" | "backfillPageCount" | "backfillWorkoutsSynced" | "backfillStartedAt" | "eventsCursor">;
  let message: SyncMessage;
  if (existing && sameAccount && existing.backfillState === "done") {
    backfill = existing;
    message = { type: "delta", userId, reason: "reconnect" };
  } else if (existing && sameAccount) {
    // A new run id supersedes chunks of the interrupted run still sitting in the queue.
    backfill = { ...existing, backfillState: "queued" };
    message = backfillResumeMessage(userId, runId, existing.backfillPagesDone, existing.backfillPageCount);
  } else {
    backfill = { backfillState: "queued", backfillPagesDone: 0, backfillPageCount: null, backfillWorkoutsSynced: 0, backfillStartedAt: null, eventsCursor: null };
    message = { type: "backfill", userId, runId, phase: "templates", page: 1 };
  }

  const values = {
    status: "active" as const,
    hevyUserId: hevyUser.id,
    hevyUserName: hevyUser.name,
    apiKeyEnvelope: await deps.keyring.encrypt(apiKey, aad.apiKey(userId)),
    webhookStatus: webhook.webhookStatus,
    webhookSecretDigest: webhook.webhookSecretDigest,
    webhookSecretEnvelope: webhook.webhookSecretEnvelope,
    webhookAuthEnvelope: webhook.webhookAuthEnvelope,
    backfillRunId: message.type === "backfill" ? message.runId : (existing?.backfillRunId ?? runId),
    backfillState: backfill.backfillState,
    backfillPagesDone: backfill.backfillPagesDone,
    backfillPageCount: backfill.backfillPageCount,
    backfillWorkoutsSynced: backfill.backfillWorkoutsSynced,
    backfillStartedAt: backfill.backfillStartedAt,
    eventsCursor: backfill.eventsCursor,
    lastError: null,
    updatedAt: now,
  };
  const writes = [];
  // Connecting a different Hevy account: the other account's workouts must not mix with this one's.
  if (existing && !sameAccount) writes.push(...purgeStatements(deps.db, userId));
  writes.push(
    deps.db
      .insert(hevyConnections)
      .values({ userId, createdAt: now, ...values })
      .onConflictDoUpdate({ target: hevyConnections.userId, set: values }),
  );
  // Every backfill run, first or resumed, is a sync_runs row from the moment it is queued.
  if (message.type === "backfill") writes.push(backfillRunRow(deps.db, userId, message.runId, now));
  await deps.db.batch(writes as [(typeof writes)[number], ...typeof writes]);
  await deps.queue.send(message);
  return getConnectionView(deps, userId);
}

const backfillRunRow = (db: Db, userId: string, runId: string, now: number) =>
  db.insert(syncRuns).values({ id: runId, userId, kind: "backfill", outcome: "running", startedAt: now }).onConflictDoNothing();

/** Statements deleting every Hevy row of one user (workouts, exercises, sets, custom templates, sync runs). */
export function purgeStatements(db: Db, userId: string) {
  return [
    db.delete(hevySets).where(eq(hevySets.userId, userId)),
    db.delete(hevyExercises).where(eq(hevyExercises.userId, userId)),
    db.delete(hevyWorkouts).where(eq(hevyWorkouts.userId, userId)),
    db.delete(hevyExerciseTemplates).where(eq(hevyExerciseTemplates.userId, userId)),
    db.delete(syncRuns).where(eq(syncRuns.userId, userId)),
  ] as const;
}

async function decryptApiKey(deps: Deps, row: ConnectionRow): Promise<string> {
  return (await deps.keyring.decrypt(row.apiKeyEnvelope, aad.apiKey(row.userId))).plaintext;
}

/** DELETE /connections/hevy: best-effort unsubscribe, then forget the key (and with purge, every Hevy row). */
export async function disconnectHevy(deps: Deps, userId: string, purge: boolean): Promise<void> {
  const row = await requireConnection(deps.db, userId);
  if (row.webhookStatus !== "unavailable") {
    try {
      await deps.hevy(await decryptApiKey(deps, row)).deleteWebhookSubscription();
    } catch {
      // Best effort: Hevy may be down or the key revoked. A delivery to the
      // forgotten secret answers 404 from now on either way.
    }
  }
  const deleteConnection = deps.db.delete(hevyConnections).where(eq(hevyConnections.userId, userId));
  if (!purge) {
    await deleteConnection;
    return;
  }
  await deps.db.batch([deleteConnection, ...purgeStatements(deps.db, userId)]);
  // CSV exports are copies of the same Hevy data: their rows, files and open uploads go too.
  await deleteUserExports(deps, deps.exportsBucket, userId);
}

/** POST /connections/hevy/webhook-secret: the old URL stops working before Hevy learns the new one. */
export async function rotateWebhookSecret(deps: Deps, userId: string): Promise<ConnectionView> {
  const row = await requireConnection(deps.db, userId);
  const webhook = await subscribeWebhook(deps, deps.hevy(await decryptApiKey(deps, row)), userId);
  const { authFailed, ...columns } = webhook;
  await deps.db
    .update(hevyConnections)
    .set({
      ...columns,
      ...(authFailed ? { status: "needs_reconnect" as const, lastError: "Hevy rejected the API key; paste a new one." } : {}),
      updatedAt: deps.now(),
    })
    .where(eq(hevyConnections.userId, userId));
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
    await deps.queue.send({ type: "delta", userId, reason: "manual" });
    return connectionView(deps, row);
  }
  // A backfill that made progress recently is still on its way: queueing another
  // run would only redo its pages. One that stalled (a lost message) or failed resumes.
  const inFlight = row.backfillState === "queued" || row.backfillState === "running";
  if (inFlight && deps.now() - row.updatedAt < BACKFILL_STALL_MS) return connectionView(deps, row);
  const runId = crypto.randomUUID();
  await deps.db.batch([
    deps.db
      .update(hevyConnections)
      .set({ backfillRunId: runId, backfillState: "queued", updatedAt: deps.now() })
      .where(eq(hevyConnections.userId, userId)),
    backfillRunRow(deps.db, userId, runId, deps.now()),
  ]);
  await deps.queue.send(backfillResumeMessage(userId, runId, row.backfillPagesDone, row.backfillPageCount));
  return getConnectionView(deps, userId);
}
