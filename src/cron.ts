import { and, asc, eq, gt, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import { runBatch } from "./db/batch";
import { hevyConnections } from "./db/schema";
import type { Deps } from "./deps";
import type { SyncMessage } from "./queue/messages";
import { BACKFILL_STALL_MS, backfillResumeMessage } from "./services/connections";
import { sendAll } from "./queue/send";

/** Must match [triggers] crons in wrangler.toml. */
export const HOURLY_DELTA_CRON = "0 * * * *";

const PAGE = 1000;

/**
 * The hourly fan-out: one delta message per active connection whose backfill is
 * done and whose key Hevy has not paused, sent 100 at a time. No Hevy I/O here — every delta runs in its own
 * queue invocation — so 10,000 connections fan out in one cron run.
 */
export async function fanOutDeltas(deps: Pick<Deps, "db" | "queue" | "now">): Promise<number> {
  const now = deps.now();
  let sent = 0;
  let after = "";
  for (;;) {
    const rows = await deps.db
      .select({ userId: hevyConnections.userId })
      .from(hevyConnections)
      .where(
        and(
          eq(hevyConnections.status, "active"),
          eq(hevyConnections.backfillState, "done"),
          // Hevy asked not to be called with this key yet (429 Retry-After): next hour.
          or(isNull(hevyConnections.hevyPausedUntil), lte(hevyConnections.hevyPausedUntil, now)),
          gt(hevyConnections.userId, after),
        ),
      )
      .orderBy(asc(hevyConnections.userId))
      .limit(PAGE);
    sent += await sendAll(deps.queue, rows.map((r): SyncMessage => ({ type: "delta", userId: r.userId, reason: "cron" })));
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
 * POST …/sync would do. Connections that need a new key, or whose key Hevy asked
 * to pause (429 Retry-After), are left alone. The update re-checks the stall in
 * the same statement that takes the row over, and only the rows it took get a
 * new sync run (the run it supersedes is closed as `superseded`) and a message:
 * a last chunk that finished meanwhile keeps its `done`, and no sync run is left
 * `running` for ever.
 */
export async function resumeBackfills(deps: Pick<Deps, "db" | "d1" | "queue" | "now">): Promise<number> {
  const now = deps.now();
  const stalled = (c: typeof hevyConnections) =>
    and(
      eq(c.status, "active"),
      or(isNull(c.hevyPausedUntil), lte(c.hevyPausedUntil, now)),
      or(eq(c.backfillState, "failed"), and(inArray(c.backfillState, ["queued", "running"]), lt(c.updatedAt, now - BACKFILL_STALL_MS))),
    );
  const rows = await deps.db
    .select({
      userId: hevyConnections.userId,
      pagesDone: hevyConnections.backfillPagesDone,
      pageCount: hevyConnections.backfillPageCount,
      pass: hevyConnections.backfillPass,
    })
    .from(hevyConnections)
    .where(stalled(hevyConnections))
    .limit(RESUME_MAX);
  if (rows.length === 0) return 0;
  const resumes = new Map(rows.map((r) => [r.userId, { ...r, runId: crypto.randomUUID() }]));
  const json = JSON.stringify([...resumes.values()].map((r) => ({ user: r.userId, run: r.runId })));
  const taken = sql`(SELECT j.value ->> 'user' FROM json_each(${json}) j WHERE EXISTS (SELECT 1 FROM hevy_connections c
      WHERE c.user_id = j.value ->> 'user' AND c.backfill_run_id = j.value ->> 'run'))`;
  const [update] = await runBatch(deps.d1, [
    sql`UPDATE hevy_connections SET backfill_state = 'queued', updated_at = ${now},
        backfill_run_id = (SELECT j.value ->> 'run' FROM json_each(${json}) j WHERE j.value ->> 'user' = hevy_connections.user_id)
      WHERE user_id IN (SELECT j.value ->> 'user' FROM json_each(${json}) j)
        AND status = 'active' AND (hevy_paused_until IS NULL OR hevy_paused_until <= ${now})
        AND (backfill_state = 'failed' OR (backfill_state IN ('queued', 'running') AND updated_at < ${now - BACKFILL_STALL_MS}))
      RETURNING user_id`,
    sql`UPDATE sync_runs SET outcome = 'superseded', finished_at = ${now}
      WHERE kind = 'backfill' AND outcome = 'running' AND user_id IN ${taken}`,
    sql`INSERT INTO sync_runs (id, user_id, kind, outcome, started_at)
      SELECT j.value ->> 'run', j.value ->> 'user', 'backfill', 'running', ${now} FROM json_each(${json}) j
      WHERE j.value ->> 'user' IN ${taken}
      ON CONFLICT (id) DO NOTHING`,
  ]);
  const resumed = (update?.results as Array<{ user_id: string }> | undefined ?? []).map((r) => resumes.get(r.user_id)!);
  return sendAll(deps.queue, resumed.map((r) => backfillResumeMessage(r.userId, r.runId, r.pagesDone, r.pageCount, r.pass)));
}
