import { and, eq, ne } from "drizzle-orm";
import { hevyConnections, syncRuns } from "../db/schema";
import type { Deps } from "../deps";
import type { ExportMessage, SyncMessage } from "./messages";

/**
 * A message that used up its retries. The failure is recorded where the user
 * sees it: `last_error` on the connection, a failed backfill state, and the
 * sync run. A later re-connect or sync resumes from what was stored.
 */
export async function recordDeadLetter(deps: Pick<Deps, "db" | "now">, message: Exclude<SyncMessage, ExportMessage>): Promise<void> {
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
