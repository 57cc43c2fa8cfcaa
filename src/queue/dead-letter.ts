import { and, eq, ne } from "drizzle-orm";
import type { z } from "zod";
import { deadLetters, hevyConnections, syncRuns } from "../db/schema";
import type { Deps } from "../deps";
import type { ExportMessage, MoveUserMessage, PurgeExportsMessage, RebuildRollupsMessage, SyncMessage } from "./messages";

/** How much of a dead letter's body shape is kept: enough to see what it was, bounded whatever was sent. */
export const DEAD_LETTER_SHAPE_MAX = 4096;

/**
 * Writes the operator's record of a message that reached the dead-letter queue:
 * a poison body (`issues` says why it is not a message) or a job whose retries
 * ran out. Keyed by the message id, so a redelivered dead letter is recorded once.
 * Only the body's shape is kept (`bodyShape`), plus its type and user id when
 * they look like ours.
 */
export async function recordDeadLetterMessage(
  deps: Pick<Deps, "directory" | "now">,
  message: { id: string; body: unknown },
  issues: z.ZodError["issues"] | null,
): Promise<void> {
  const body = message.body as { type?: unknown; userId?: unknown } | null;
  const field = (v: unknown, pattern: RegExp) => (typeof v === "string" && pattern.test(v) ? v : null);
  const shape = JSON.stringify(bodyShape(message.body)) ?? "null";
  // The operator's table lives in the directory: one place to look, whatever the user's shard.
  await deps.directory.db
    .insert(deadLetters)
    .values({
      id: message.id,
      reason: issues ? "invalid_message" : "retries_exhausted",
      messageType: typeof body === "object" && body ? field(body.type, /^[a-z_]{1,32}$/) : null,
      userId: typeof body === "object" && body ? field(body.userId, /^[A-Za-z0-9_-]{1,64}$/) : null,
      // A cut may split a surrogate pair: drop the lone half.
      bodyShape: shape.length > DEAD_LETTER_SHAPE_MAX ? `${shape.slice(0, DEAD_LETTER_SHAPE_MAX).replace(/[\uD800-\uDBFF]$/, "")}…` : shape,
      // zod's messages name the expected type or values, never the received value.
      error: issues ? issues.slice(0, 5).map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ").slice(0, 1000) : null,
      receivedAt: deps.now(),
    })
    .onConflictDoNothing();
}

/**
 * A body with every string replaced by its length (`"<string 36>"`): enough to
 * see which field broke, never a copy of what a broken producer put in it.
 */
export function bodyShape(v: unknown, depth = 0): unknown {
  if (v === null || typeof v === "number" || typeof v === "boolean") return v;
  if (typeof v === "string") return `<string ${v.length}>`;
  if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return `<${v.byteLength} bytes>`;
  if (Array.isArray(v)) return depth >= 4 ? `<array ${v.length}>` : v.slice(0, 20).map((x) => bodyShape(x, depth + 1));
  if (typeof v === "object") {
    if (depth >= 4) return "<object>";
    const keys = Object.keys(v).slice(0, 50);
    return Object.fromEntries(keys.map((k) => [k.length > 64 ? `${k.slice(0, 64)}…` : k, bodyShape((v as Record<string, unknown>)[k], depth + 1)]));
  }
  return `<${typeof v}>`;
}

/**
 * A message that used up its retries. The failure is recorded where the user
 * sees it: `last_error` on the connection, a failed backfill state, and the
 * sync run. A later re-connect or sync resumes from what was stored.
 */
export async function recordDeadLetter(deps: Pick<Deps, "db" | "now">, message: Exclude<SyncMessage, ExportMessage | PurgeExportsMessage | RebuildRollupsMessage | MoveUserMessage>): Promise<void> {
  const { db } = deps;
  const now = deps.now();
  const row = await db
    .select({ lastError: hevyConnections.lastError, runId: hevyConnections.backfillRunId })
    .from(hevyConnections)
    .where(eq(hevyConnections.userId, message.userId))
    .get();
  if (!row) return;
  const cause = row.lastError ?? "repeated failures";
  if (message.type === "backfill") {
    if (message.runId !== row.runId) return;
    const error = `Backfill stopped after repeated Hevy errors (${cause.replace(/; retrying$/, "")}). Sync again to resume.`;
    await db.batch([
      db
        .update(hevyConnections)
        .set({ backfillState: "failed", lastError: error, updatedAt: now })
        .where(and(eq(hevyConnections.userId, message.userId), ne(hevyConnections.backfillState, "done"))),
      db.update(syncRuns).set({ outcome: "failed", finishedAt: now, error }).where(eq(syncRuns.id, message.runId)),
    ]);
    return;
  }
  const what = message.type === "delta" ? "Sync" : `Fetching workout ${message.workoutId}`;
  // A webhook fetch notes no error of its own while it retries: last_error then belongs to another job.
  const detail = message.type === "delta" ? ` (${cause.replace(/; retrying$/, "")})` : "";
  const error = `${what} failed after repeated Hevy errors${detail}.`;
  await db.batch([
    db.update(hevyConnections).set({ lastError: error, updatedAt: now }).where(eq(hevyConnections.userId, message.userId)),
    db.insert(syncRuns).values({
      id: crypto.randomUUID(),
      userId: message.userId,
      kind: message.type === "delta" ? "delta" : "webhook",
      outcome: "failed",
      startedAt: now,
      finishedAt: now,
      error,
    }),
  ]);
}

/**
 * A purge whose R2 work never succeeded: files may remain under the user's
 * prefix. No user-facing place is left (the connection and exports are gone), so
 * the dead_letters row and this error are the operator's cue; the log names the
 * user only, never object keys or upload ids.
 */
export function logPurgeDeadLetter(message: PurgeExportsMessage): void {
  console.error(JSON.stringify({ level: "error", msg: "export purge gave up: files may remain in R2", userId: message.userId }));
}
