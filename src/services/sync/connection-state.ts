import { eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { hevyConnections, syncRuns } from "../../db/schema";
import type { Deps } from "../../deps";
import type { ConnectionRow } from "../connections";
import { aad } from "../webhook-subscription";

export const AUTH_FAILED_MESSAGE = "Hevy rejected the API key (401). Paste a new key to resume syncing.";

/** The Hevy key of a connection; envelopes under a rotated-out key are re-encrypted under the current one. */
export async function connectionApiKey(deps: Pick<Deps, "db" | "keyring">, row: ConnectionRow): Promise<string> {
  const { plaintext, stale } = await deps.keyring.decrypt(row.apiKeyEnvelope, aad.apiKey(row.userId));
  if (stale) {
    await deps.db
      .update(hevyConnections)
      .set({ apiKeyEnvelope: await deps.keyring.encrypt(plaintext, aad.apiKey(row.userId)) })
      .where(eq(hevyConnections.userId, row.userId));
  }
  return plaintext;
}

/**
 * A 401 from Hevy: the connection needs a new key. The stored key is left
 * exactly as it is (the user replaces it), stored workouts stay readable, and an
 * unfinished backfill is marked failed so a re-connect resumes it.
 */
export async function markNeedsReconnect(db: Db, userId: string, runId: string | null, now: number): Promise<void> {
  const connection = db
    .update(hevyConnections)
    .set({
      status: "needs_reconnect",
      backfillState: sql`CASE WHEN ${hevyConnections.backfillState} = 'done' THEN 'done' ELSE 'failed' END`,
      lastError: AUTH_FAILED_MESSAGE,
      updatedAt: now,
    })
    .where(eq(hevyConnections.userId, userId));
  if (!runId) {
    await connection;
    return;
  }
  await db.batch([
    connection,
    db.update(syncRuns).set({ outcome: "needs_reconnect", finishedAt: now, error: AUTH_FAILED_MESSAGE }).where(eq(syncRuns.id, runId)),
  ]);
}

/** Notes a retryable failure on the connection so the user sees what is going on while it retries. */
export async function noteRetry(db: Db, userId: string, message: string, now: number): Promise<void> {
  await db.update(hevyConnections).set({ lastError: message, updatedAt: now }).where(eq(hevyConnections.userId, userId));
}
