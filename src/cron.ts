import { and, asc, eq, gt } from "drizzle-orm";
import { hevyConnections } from "./db/schema";
import type { Deps } from "./deps";
import type { SyncMessage } from "./queue/messages";

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
