import { eq } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client";
import { hevyConnections, hevyWorkouts } from "../db/schema";
import type { Deps } from "../deps";
import { HevyError } from "../hevy/client";
import type { HevyUser } from "../hevy/types";
import { KeyringError, timingSafeEqualStrings } from "../lib/crypto";
import { AppError } from "../lib/errors";
import type { SyncMessage } from "../queue/messages";
import {
  backfillResumeMessage,
  type ConnectionRow,
  type ConnectionView,
  connectionView,
  findConnectionRow,
  getConnectionView,
  purgeStatements,
  startRunStatements,
} from "./connections";
import { type DeletedExportRow, deleteExportRowsStatement, removeExportFiles } from "./exports";
import { pauseLeftSeconds } from "./sync/connection-state";
import { aad, subscribeWebhook, pruneWebhookRoutes } from "./webhook-subscription";

// PUT /connections/hevy: validating a key and deciding what a (re-)connect must do with the rows
// already stored — a delta, the rest of a backfill, a reconciling walk, or a fresh start.

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

/** How far back Hevy's events feed is trusted to still list every deletion: older cursors reconcile by a walk. */
export const EVENTS_TRUSTED_MS = 30 * 86_400_000;

/**
 * PUT /connections/hevy. Validates the key with Hevy before anything is stored,
 * then stores it encrypted under a new key epoch (jobs of the previous key stop
 * writing, scope.ts), subscribes the webhook and queues work:
 * - a different Hevy account than the stored rows came from: those rows go in
 *   the same batch, and a first backfill starts;
 * - the same account, backfill done: a delta from the surviving cursor — also
 *   after a disconnect without purge, since the events feed lists what changed
 *   and was deleted meanwhile — never a second full backfill; unless the cursor
 *   is older than the feed is trusted for, then a reconciling walk (sweep.ts);
 * - the same account, backfill unfinished: the rest of it (a reconciling walk
 *   when it started longer ago than the feed is trusted for);
 * - stored rows of unknown origin (no connection row): a reconciling walk, which
 *   keeps what this account has and removes, checked one by one, what it has not.
 * While Hevy's pause for the stored key is on, a PUT of that same key changes
 * nothing and calls nobody.
 */
export async function connectHevy(deps: Deps, userId: string, apiKey: string): Promise<ConnectionView> {
  const existing = await findConnectionRow(deps.db, userId);
  const pause = existing ? pauseLeftSeconds(existing, deps.now()) : 0;
  const same = existing && pause > 0 ? await isStoredKey(deps, existing, apiKey) : false;
  if (existing && pause > 0 && same !== false) {
    if (same === true) return connectionView(deps, existing);
    // The key Hevy paused cannot be told apart from this one (forgotten at a disconnect, or under a
    // retired encryption key): checking this one now could be calling Hevy with it too early.
    throw new AppError(503, "hevy_paused", "Hevy asked to wait",
      `Hevy asked VitalTrends not to call it for this account for a while. Try again in ${Math.ceil(pause / 60)} minute(s).`,
      undefined, { "retry-after": String(pause) });
  }
  const hevyUser = await validateKey(deps, apiKey);
  const sameAccount = existing?.hevyUserId === hevyUser.id;
  const webhook = await subscribeWebhook(deps, deps.hevy(apiKey), userId);
  const now = deps.now();
  const runId = crypto.randomUUID();

  type BackfillColumns = Pick<ConnectionRow,
    "backfillState" | "backfillPagesDone" | "backfillPageCount" | "backfillWorkoutsSynced" | "backfillStartedAt" | "eventsCursor" | "backfillReconcile" | "backfillPass">;
  const fresh = (reconcile: boolean): BackfillColumns => ({
    backfillState: "queued", backfillPagesDone: 0, backfillPageCount: null, backfillWorkoutsSynced: 0, backfillStartedAt: null, eventsCursor: null,
    backfillReconcile: reconcile, backfillPass: 1,
  });
  const trusted = (since: number | null) => since !== null && now - since <= EVENTS_TRUSTED_MS;
  let backfill: BackfillColumns;
  let message: SyncMessage;
  if (existing && sameAccount && existing.backfillState === "done" && trusted(existing.eventsCursor)) {
    backfill = existing;
    message = { type: "delta", userId, reason: "reconnect" };
  } else if (existing && sameAccount && (existing.backfillState === "done" || (existing.backfillStartedAt !== null && !trusted(existing.backfillStartedAt)))) {
    // The feed cannot be trusted to cover the gap: a done backfill's cursor, or the start of an
    // unfinished one (its first delta would read from there), is too old. Walk the list again and
    // check what the walk does not meet.
    backfill = { ...fresh(true), backfillWorkoutsSynced: existing.backfillWorkoutsSynced };
    message = { type: "backfill", userId, runId, phase: "templates", page: 1 };
  } else if (existing && sameAccount) {
    // A new run id supersedes chunks of the interrupted run still sitting in the queue.
    backfill = { ...existing, backfillState: "queued" };
    message = backfillResumeMessage(userId, runId, existing.backfillPagesDone, existing.backfillPageCount, existing.backfillPass);
  } else {
    backfill = fresh(!existing && (await hasHevyRows(deps.db, userId)));
    message = { type: "backfill", userId, runId, phase: "templates", page: 1 };
  }

  const values = {
    status: "active" as const,
    hevyUserId: hevyUser.id,
    hevyUserName: hevyUser.name,
    apiKeyEnvelope: await deps.keyring.encrypt(apiKey, aad.apiKey(userId)),
    keyEpoch: crypto.randomUUID(),
    // Hevy's pause belonged to the key being replaced.
    hevyPausedUntil: null,
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
    backfillReconcile: backfill.backfillReconcile,
    backfillPass: backfill.backfillPass,
    eventsCursor: backfill.eventsCursor,
    lastError: null,
    updatedAt: now,
  };
  const writes: BatchItem<"sqlite">[] = [];
  // Connecting a different Hevy account: the other account's workouts must not mix with this one's,
  // and their CSV exports, copies of them, go too (an export job in flight sees its row gone and
  // removes what it wrote).
  const switching = existing !== undefined && !sameAccount;
  if (switching) writes.push(...purgeStatements(deps.db, userId));
  writes.push(
    deps.db
      .insert(hevyConnections)
      .values({ userId, createdAt: now, ...values })
      .onConflictDoUpdate({ target: hevyConnections.userId, set: values }),
  );
  // Every backfill run, first or resumed, is a sync_runs row from the moment it is queued.
  if (message.type === "backfill") writes.push(...startRunStatements(deps.db, userId, message.runId, now));
  if (switching) writes.push(deleteExportRowsStatement(deps.db, userId));
  const results = await deps.db.batch(writes as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  if (switching) await removeExportFiles(deps, deps.exportsBucket, userId, results.at(-1) as DeletedExportRow[]);
  await pruneWebhookRoutes(deps, userId);
  await deps.queue.send(message);
  return getConnectionView(deps, userId);
}

/** Whether `apiKey` is the key stored on the row (timing-safe); "unknown" when none can be read. */
async function isStoredKey(deps: Pick<Deps, "keyring">, row: ConnectionRow, apiKey: string): Promise<boolean | "unknown"> {
  if (row.apiKeyEnvelope === null) return "unknown";
  try {
    return await timingSafeEqualStrings(apiKey, (await deps.keyring.decrypt(row.apiKeyEnvelope, aad.apiKey(row.userId))).plaintext);
  } catch (err) {
    if (err instanceof KeyringError) return "unknown";
    throw err;
  }
}

async function hasHevyRows(db: Db, userId: string): Promise<boolean> {
  return (await db.select({ id: hevyWorkouts.id }).from(hevyWorkouts).where(eq(hevyWorkouts.userId, userId)).limit(1).get()) !== undefined;
}

