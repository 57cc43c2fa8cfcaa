import { and, asc, eq, gt, inArray, lt, or, sql } from "drizzle-orm";
import { runBatch } from "./db/batch";
import { hevyConnections } from "./db/schema";
import type { Deps } from "./deps";
import type { SyncMessage } from "./queue/messages";
import { BACKFILL_STALL_MS, backfillResumeMessage } from "./services/connections";

/** Must match [triggers] crons in wrangler.toml. */
export const HOURLY_DELTA_CRON = "0 * * * *";

/** Queues.sendBatch takes at most 100 messages per call. */
export const SEND_BATCH_MAX = 100;
const PAGE = 1000;

/**
 * The hourly fan-out: one delta message per active connection whose backfill is
 * done, sent 100 at a time. No Hevy I/O here — every delta runs in its own
 * queue invocation — so 10,000 connections fan out in one cron run.
 */
export async function fanOutDeltas(deps: Pick<Deps, "db" | "queue">): Promise<number> {
  let sent = 0;
  let after = "";
  for (;;) {
    const rows = await deps.db
      .select({ userId: hevyConnections.userId })
      .from(hevyConnections)
      .where(and(eq(hevyConnections.status, "active"), eq(hevyConnections.backfillState, "done"), gt(hevyConnections.userId, after)))
      .orderBy(asc(hevyConnections.userId))
      .limit(PAGE);
    for (let i = 0; i < rows.length; i += SEND_BATCH_MAX) {
      const batch = rows.slice(i, i + SEND_BATCH_MAX).map((r) => ({ body: { type: "delta", userId: r.userId, reason: "cron" } satisfies SyncMessage }));
      await deps.queue.sendBatch(batch);
      sent += batch.length;
    }
    if (rows.length < PAGE) return sent;
    after = rows.at(-1)!.userId;
  }
}

/** Resumes per cron run, at most: two statements and a few sendBatch calls whatever the count. */
export const RESUME_MAX = 1000;

/**
 * Self-healing: a backfill that failed (its chunk used up the queue's retries)
 * or stalled (queued or running, no progress for BACKFILL_STALL_MS — a lost
 * message) is resumed from its last stored page under a new run id, as
 * POST …/sync would do. Connections that need a new key are left alone.
 */
export async function resumeBackfills(deps: Pick<Deps, "db" | "d1" | "queue" | "now">): Promise<number> {
  const now = deps.now();
  const rows = await deps.db
    .select({ userId: hevyConnections.userId, pagesDone: hevyConnections.backfillPagesDone, pageCount: hevyConnections.backfillPageCount })
    .from(hevyConnections)
    .where(
      and(
        eq(hevyConnections.status, "active"),
        or(
          eq(hevyConnections.backfillState, "failed"),
          and(inArray(hevyConnections.backfillState, ["queued", "running"]), lt(hevyConnections.updatedAt, now - BACKFILL_STALL_MS)),
        ),
      ),
    )
    .limit(RESUME_MAX);
  if (rows.length === 0) return 0;
  const resumes = rows.map((r) => ({ ...r, runId: crypto.randomUUID() }));
  const json = JSON.stringify(resumes.map((r) => ({ user: r.userId, run: r.runId })));
  await runBatch(deps.d1, [
    // Only rows still unfinished: one that completed meanwhile keeps its state, and the
    // message sent for it below is dropped by the consumer as a superseded run.
    sql`UPDATE hevy_connections SET backfill_state = 'queued', updated_at = ${now},
        backfill_run_id = (SELECT j.value ->> 'run' FROM json_each(${json}) j WHERE j.value ->> 'user' = hevy_connections.user_id)
      WHERE user_id IN (SELECT j.value ->> 'user' FROM json_each(${json}) j) AND backfill_state IN ('failed', 'queued', 'running')`,
    sql`INSERT INTO sync_runs (id, user_id, kind, outcome, started_at)
      SELECT j.value ->> 'run', j.value ->> 'user', 'backfill', 'running', ${now} FROM json_each(${json}) j WHERE true
      ON CONFLICT (id) DO NOTHING`,
  ]);
  for (let i = 0; i < resumes.length; i += SEND_BATCH_MAX) {
    await deps.queue.sendBatch(
      resumes.slice(i, i + SEND_BATCH_MAX).map((r) => ({ body: backfillResumeMessage(r.userId, r.runId, r.pagesDone, r.pageCount) })),
    );
  }
  return resumes.length;
}
