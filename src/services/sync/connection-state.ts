import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { hevyConnections, syncRuns } from "../../db/schema";
import type { Deps } from "../../deps";
import type { ConnectionRow } from "../connections";
import { aad } from "../webhook-subscription";

export const AUTH_FAILED_MESSAGE = "Hevy rejected the API key (401). Paste a new key to resume syncing.";

/**
 * The Hevy key of a connection. Envelopes made under a rotated-out key (the key
 * itself, the webhook secret and auth token) are re-encrypted under the current
 * one on the way, so the old key can be retired once every connection synced.
 */
export async function connectionApiKey(deps: Pick<Deps, "db" | "keyring">, row: ConnectionRow): Promise<string> {
  const { keyring } = deps;
  const stale = (envelope: string | null) => envelope !== null && !envelope.startsWith(`v1:${keyring.currentKid}:`);
  const reseal = async (envelope: string, aadValue: string) => keyring.encrypt((await keyring.decrypt(envelope, aadValue)).plaintext, aadValue);
  const apiKey = (await keyring.decrypt(row.apiKeyEnvelope, aad.apiKey(row.userId))).plaintext;
  if (stale(row.apiKeyEnvelope) || stale(row.webhookSecretEnvelope) || stale(row.webhookAuthEnvelope)) {
    await deps.db
      .update(hevyConnections)
      .set({
        apiKeyEnvelope: stale(row.apiKeyEnvelope) ? await keyring.encrypt(apiKey, aad.apiKey(row.userId)) : row.apiKeyEnvelope,
        webhookSecretEnvelope: stale(row.webhookSecretEnvelope) ? await reseal(row.webhookSecretEnvelope!, aad.webhookSecret(row.userId)) : row.webhookSecretEnvelope,
        webhookAuthEnvelope: stale(row.webhookAuthEnvelope) ? await reseal(row.webhookAuthEnvelope!, aad.webhookAuth(row.userId)) : row.webhookAuthEnvelope,
      })
      // Only if nothing replaced them meanwhile (a re-connect or a rotation).
      .where(and(eq(hevyConnections.userId, row.userId), eq(hevyConnections.apiKeyEnvelope, row.apiKeyEnvelope)));
  }
  return apiKey;
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
