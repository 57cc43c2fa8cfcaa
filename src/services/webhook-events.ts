import { type SQL, sql } from "drizzle-orm";
import type { Deps } from "../deps";
import type { Workout } from "../hevy/types";
import { workoutViewOf } from "./workouts";
import { deliveryMessage, sendAll } from "../queue/send";

// The outbox of outgoing webhooks (SPEC §15). An event is written by the very batch that makes
// the change it announces — the store path's workout writes and tombstones, the backfill's
// closing batch, the needs_reconnect transition — and fanned out in that batch to the endpoints
// subscribed then (webhook_deliveries, RETURNING what to send). So a change is announced iff it
// was applied: an unchanged refetch or a duplicate Hevy webhook applies nothing and announces
// nothing, and a batch that fails announces nothing. The queue messages are sent after the batch;
// one lost on the way is sent again by the hourly sweep (src/services/webhook-maintenance.ts).
//
// An event nobody subscribes to (no enabled endpoint of the user's lists its type) is not written:
// the outbox costs nothing until someone listens.

export const newEventId = () => `msg_${crypto.randomUUID().replace(/-/g, "")}`;

/** Whether an enabled endpoint of the user's subscribes to `type` (an SQL expression). */
const hasListener = (userId: string, type: SQL) =>
  sql`EXISTS (SELECT 1 FROM webhook_endpoints ep CROSS JOIN json_each(ep.events) t
    WHERE ep.user_id = ${userId} AND ep.disabled_at IS NULL AND t.value = ${type})`;

/** A delivery the batch created: one queue message each. */
export interface NewDelivery {
  endpoint_id: string;
  event_id: string;
}

const fanOuts = new WeakSet<SQL>();

/** Whether a statement is a fan-out (its rows are deliveries to queue). */
export const isFanOut = (statement: SQL) => fanOuts.has(statement);

/**
 * Fans the events `eventIds` (a JSON array) out to the user's enabled endpoints subscribed to
 * their type. RETURNING gives the caller the messages to send.
 */
export function fanOut(userId: string, eventIds: string, now: number): SQL {
  const statement = sql`INSERT INTO webhook_deliveries (endpoint_id, event_id, user_id, status, attempts, next_attempt_at, created_at)
    SELECT ep.id, e.id, e.user_id, 'pending', 0, ${now}, ${now}
    FROM webhook_events e CROSS JOIN webhook_endpoints ep ON ep.user_id = e.user_id AND ep.disabled_at IS NULL
      AND EXISTS (SELECT 1 FROM json_each(ep.events) t WHERE t.value = e.type)
    WHERE e.user_id = ${userId} AND e.id IN (SELECT value FROM json_each(${eventIds}))
    ON CONFLICT DO NOTHING
    RETURNING endpoint_id, event_id`;
  fanOuts.add(statement);
  return statement;
}

/**
 * Workout events of an upsert, written just before its INSERT … ON CONFLICT in the same batch and
 * under that upsert's own condition — no row yet, or a stored version older than the incoming one
 * and not deleted at or after it — so an event is written exactly when its write will apply:
 * created when no live row exists, updated when one does. (A check after the write cannot tell a
 * write of this batch from an equal one of another batch stamped in the same millisecond.)
 */
export function workoutUpsertEvents(userId: string, workouts: Workout[], now: number, guard: SQL) {
  const events = workouts.map((w) => ({ event_id: newEventId(), id: w.id, updated_at: w.updatedAt, data: JSON.stringify(workoutViewOf(w)) }));
  const json = JSON.stringify(events);
  const type = sql`CASE WHEN w.id IS NULL OR w.deleted_at IS NOT NULL THEN 'hevy.workout.created' ELSE 'hevy.workout.updated' END`;
  return {
    stage: sql`INSERT INTO webhook_events (id, user_id, type, subject, data, created_at)
      SELECT j.value ->> 'event_id', ${userId}, ${type}, j.value ->> 'id', j.value ->> 'data', ${now}
      FROM json_each(${json}) j LEFT JOIN hevy_workouts w ON w.user_id = ${userId} AND w.id = j.value ->> 'id'
      WHERE (w.id IS NULL OR (w.hevy_updated_at < j.value ->> 'updated_at'
          AND (w.deleted_at IS NULL OR w.deleted_at < j.value ->> 'updated_at')))
        AND ${guard} AND ${hasListener(userId, type)}`,
    confirm: [fanOut(userId, JSON.stringify(events.map((e) => e.event_id)), now)],
  };
}

/**
 * Deletion events, written before the tombstones: only for a live workout the tombstone will
 * replace (the same condition as the tombstone's upsert: not deleted yet, no newer version) —
 * a workout the consumer never heard of, or one already deleted, announces nothing.
 */
export function workoutDeleteEvents(userId: string, deletions: Array<{ id: string; deletedAt: number }>, now: number, guard: SQL) {
  // One event per workout, however often the page lists its deletion.
  const latest = new Map<string, number>();
  for (const d of deletions) latest.set(d.id, Math.max(latest.get(d.id) ?? d.deletedAt, d.deletedAt));
  const events = [...latest].map(([id, deletedAt]) => ({ event_id: newEventId(), id, deleted_at: deletedAt }));
  const json = JSON.stringify(events);
  return {
    stage: sql`INSERT INTO webhook_events (id, user_id, type, subject, data, created_at)
      SELECT j.value ->> 'event_id', ${userId}, 'hevy.workout.deleted', w.id, json_object('id', w.id), ${now}
      FROM json_each(${json}) j CROSS JOIN hevy_workouts w ON w.user_id = ${userId} AND w.id = j.value ->> 'id'
      WHERE w.deleted_at IS NULL AND w.hevy_updated_at <= j.value ->> 'deleted_at' AND ${guard}
        AND ${hasListener(userId, sql`'hevy.workout.deleted'`)}`,
    confirm: [fanOut(userId, JSON.stringify(events.map((e) => e.event_id)), now)],
  };
}

/**
 * One event about the connection, written when `condition` holds — the same condition as the
 * UPDATE it precedes in the batch, so it is written exactly when that UPDATE applies. `data`: a
 * JSON object expression.
 */
export function connectionEvent(userId: string, type: "hevy.backfill.completed" | "hevy.connection.needs_reconnect", data: SQL, condition: SQL, now: number) {
  const id = newEventId();
  return [
    sql`INSERT INTO webhook_events (id, user_id, type, subject, data, created_at)
      SELECT ${id}, ${userId}, ${type}, NULL, ${data}, ${now} WHERE ${condition} AND ${hasListener(userId, sql`${type}`)}`,
    fanOut(userId, JSON.stringify([id]), now),
  ];
}

/** The deliveries the fan-out statements at `indexes` of a batch's results created. */
export function deliveriesIn(results: D1Result[], indexes: number[]): NewDelivery[] {
  return indexes.flatMap((i) => (results[i]?.results ?? []) as NewDelivery[]);
}

/** One message per new delivery; a send that fails is left to the hourly sweep (the delivery is pending in D1). */
export async function queueDeliveries(deps: Pick<Deps, "webhookQueue">, userId: string, deliveries: NewDelivery[]): Promise<void> {
  if (deliveries.length === 0) return;
  try {
    await sendAll(deps.webhookQueue, deliveries.map((d) => deliveryMessage(userId, d.endpoint_id, d.event_id)));
  } catch (err) {
    console.warn(JSON.stringify({ level: "warn", msg: "webhook deliveries not queued; the hourly sweep sends them", userId, deliveries: deliveries.length, error: err instanceof Error ? err.name : "unknown" }));
  }
}
