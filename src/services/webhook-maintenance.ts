import { sql } from "drizzle-orm";
import { runBatch } from "../db/batch";
import type { Deps } from "../deps";
import { deliveryMessage, sendAll } from "../queue/send";

// The hourly upkeep of outgoing webhooks (SPEC §15), per database holding users' rows (a cron
// step in src/index.ts): lost queue messages are sent again, history older than 30 days goes, and
// previous secrets past their 24 h stop being kept. Each part is bounded per run.

/** A pending delivery this long past its time has lost its message (a failed send, a dropped retry). */
export const SWEEP_GRACE_MS = 10 * 60_000;
export const SWEEP_MAX = 500;
/** Events, deliveries and attempts are kept this long, then purged. */
export const WEBHOOK_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
export const PURGE_BATCH = 1000;
export const PURGE_ROUNDS = 5;

/** Queues again, oldest first, the deliveries still pending SWEEP_GRACE_MS after their time. */
export async function sweepWebhookDeliveries(deps: Pick<Deps, "d1" | "now" | "webhookQueue">, max = SWEEP_MAX): Promise<number> {
  const { results } = await deps.d1
    .prepare(`SELECT endpoint_id, event_id, user_id FROM webhook_deliveries
      WHERE status = 'pending' AND next_attempt_at < ? ORDER BY next_attempt_at LIMIT ?`)
    .bind(deps.now() - SWEEP_GRACE_MS, max)
    .all<{ endpoint_id: string; event_id: string; user_id: string }>();
  // A message that arrives twice (the original was only late) attempts once: the attempt is claimed in D1.
  return sendAll(deps.webhookQueue, results.map((r) => deliveryMessage(r.user_id, r.endpoint_id, r.event_id)));
}

/**
 * Deletes events, deliveries and attempts older than WEBHOOK_RETENTION_MS, PURGE_BATCH deliveries
 * and events a round. The loops start from the endpoints and the users (CROSS JOIN keeps that
 * order), so the per-endpoint and per-user indexes find the old rows without a full scan.
 */
export async function purgeWebhookHistory(deps: Pick<Deps, "d1" | "now">, opts = { batch: PURGE_BATCH, rounds: PURGE_ROUNDS }): Promise<{ deliveries: number; events: number }> {
  const cutoff = deps.now() - WEBHOOK_RETENTION_MS;
  const old = sql`SELECT d.endpoint_id, d.event_id FROM webhook_endpoints ep CROSS JOIN webhook_deliveries d ON d.endpoint_id = ep.id
    WHERE d.created_at < ${cutoff} ORDER BY d.endpoint_id, d.created_at, d.event_id LIMIT ${opts.batch}`;
  const total = { deliveries: 0, events: 0 };
  for (let round = 0; round < opts.rounds; round++) {
    const [, deliveries, events] = await runBatch(deps.d1, [
      sql`DELETE FROM webhook_attempts WHERE (endpoint_id, event_id) IN (${old})`,
      sql`DELETE FROM webhook_deliveries WHERE (endpoint_id, event_id) IN (${old})`,
      sql`DELETE FROM webhook_events WHERE id IN (SELECT e.id FROM users u CROSS JOIN webhook_events e ON e.user_id = u.id
        WHERE e.created_at < ${cutoff} LIMIT ${opts.batch})`,
    ]);
    const n = { deliveries: deliveries?.meta.changes ?? 0, events: events?.meta.changes ?? 0 };
    total.deliveries += n.deliveries;
    total.events += n.events;
    if (n.deliveries < opts.batch && n.events < opts.batch) break;
  }
  return total;
}

/** Forgets previous secrets whose 24 h are over: nothing signs with them any more. */
export async function dropExpiredSecrets(deps: Pick<Deps, "d1" | "now">): Promise<number> {
  const res = await deps.d1
    .prepare("UPDATE webhook_endpoints SET previous_secret_envelope = NULL, previous_secret_until = NULL WHERE previous_secret_until <= ?")
    .bind(deps.now())
    .run();
  return res.meta.changes;
}

/** The cron step: every part, in one database. */
export async function maintainWebhooks(deps: Pick<Deps, "d1" | "now" | "webhookQueue">): Promise<void> {
  await sweepWebhookDeliveries(deps);
  await purgeWebhookHistory(deps);
  await dropExpiredSecrets(deps);
}
