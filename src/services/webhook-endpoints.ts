import { and, desc, eq, lt, or, sql } from "drizzle-orm";
import { z } from "zod";
import { runBatch } from "../db/batch";
import { webhookAttempts, webhookDeliveries, webhookEndpoints, webhookEvents } from "../db/schema";
import type { Deps } from "../deps";
import { decodeCursor, encodeCursor } from "../lib/cursor";
import { AppError, notFound } from "../lib/errors";
import { newWebhookSecret } from "../lib/standard-webhooks";
import { endpointUrl } from "../lib/webhook-url";
import { isoOrNull, isoUtc } from "../lib/time";
import { newEventId } from "./webhook-events";
import { aad, openStored } from "./webhook-subscription";
import { deliveryMessage } from "../queue/send";

// Outgoing webhook endpoints (SPEC §15): what an API consumer registers to be told about their own
// changes. The secret is shown once (create, rotate) and kept encrypted like the Hevy key; the
// delivery side is src/services/webhook-delivery.ts, the outbox src/services/webhook-events.ts.

/** The events an endpoint can subscribe to (`ping` is sent only by POST …/{id}/test, whatever the subscription). */
export const WEBHOOK_EVENT_TYPES = [
  "hevy.workout.created",
  "hevy.workout.updated",
  "hevy.workout.deleted",
  "hevy.backfill.completed",
  "hevy.connection.needs_reconnect",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
export const PING_EVENT_TYPE = "ping";

/** Endpoints per user, enabled or disabled: every change is signed and sent once per endpoint. */
export const MAX_WEBHOOK_ENDPOINTS = 10;
/** After a rotation the previous secret keeps signing this long, so receivers can switch without losing a delivery. */
export const PREVIOUS_SECRET_MS = 24 * 60 * 60 * 1000;
export { WEBHOOK_URL_MAX } from "../lib/webhook-url";
export const DESCRIPTION_MAX = 256;

export type EndpointRow = typeof webhookEndpoints.$inferSelect;

export interface EndpointView {
  id: string;
  url: string;
  description: string | null;
  events: WebhookEventType[];
  status: "enabled" | "disabled";
  disabled_at: string | null;
  disabled_reason: string | null;
  failing_since: string | null;
  previous_secret_expires_at: string | null;
  created_at: string;
}

export interface DeliveryView {
  event_id: string;
  event_type: string;
  status: "pending" | "delivered" | "failed";
  attempt_count: number;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  attempts: Array<{ attempt: number; at: string; duration_ms: number; status_code: number | null; error: string | null }>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const noSuchEndpoint = () => notFound("No webhook endpoint with this id.");

export function toEndpointView(row: EndpointRow, now: number): EndpointView {
  const events = JSON.parse(row.events) as WebhookEventType[];
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events,
    status: row.disabledAt === null ? "enabled" : "disabled",
    disabled_at: isoOrNull(row.disabledAt),
    disabled_reason: row.disabledReason,
    failing_since: isoOrNull(row.failingSince),
    previous_secret_expires_at:
      row.previousSecretEnvelope !== null && row.previousSecretUntil !== null && row.previousSecretUntil > now ? isoUtc(row.previousSecretUntil) : null,
    created_at: isoUtc(row.createdAt),
  };
}

/** Subscribed types in the order of WEBHOOK_EVENT_TYPES, duplicates collapsed; all of them when not given. */
const canonicalEvents = (events: readonly WebhookEventType[] | undefined): WebhookEventType[] =>
  events === undefined ? [...WEBHOOK_EVENT_TYPES] : WEBHOOK_EVENT_TYPES.filter((type) => events.includes(type));

export interface CreateEndpointInput {
  url: string;
  events?: WebhookEventType[];
  description?: string | null;
}

/** POST /webhook-endpoints: the endpoint and its secret, shown only here. */
export async function createEndpoint(
  deps: Pick<Deps, "d1" | "keyring" | "now">,
  userId: string,
  input: CreateEndpointInput,
  opts: { allowInsecureUrls: boolean },
): Promise<EndpointView & { secret: string }> {
  const url = endpointUrl(input.url, opts.allowInsecureUrls);
  const events = canonicalEvents(input.events);
  const id = crypto.randomUUID();
  const secret = newWebhookSecret();
  const now = deps.now();
  const row: EndpointRow = {
    id, userId, url, description: input.description ?? null, events: JSON.stringify(events),
    secretEnvelope: await deps.keyring.encrypt(secret, aad.webhookEndpointSecret(userId, id)),
    previousSecretEnvelope: null, previousSecretUntil: null, createdAt: now, failingSince: null, disabledAt: null, disabledReason: null,
  };
  // The limit is checked by the insert itself: two creations at once cannot both take the last place.
  const inserted = await deps.d1
    .prepare(`INSERT INTO webhook_endpoints (id, user_id, url, description, events, secret_envelope, created_at)
      SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE (SELECT count(*) FROM webhook_endpoints WHERE user_id = ?2) < ?8`)
    .bind(row.id, userId, row.url, row.description, row.events, row.secretEnvelope, now, MAX_WEBHOOK_ENDPOINTS)
    .run();
  if (inserted.meta.changes === 0) {
    throw new AppError(409, "webhook_endpoint_limit", "Too many webhook endpoints",
      `A user can have at most ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints; delete one first.`);
  }
  return { ...toEndpointView(row, now), secret };
}

const listCursor = z.strictObject({ c: z.number().int(), i: z.string().max(64) });

/** GET /webhook-endpoints: newest first. */
export async function listEndpoints(deps: Pick<Deps, "db" | "now">, userId: string, q: { limit: number; cursor?: string }) {
  const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, listCursor);
  const rows = await deps.db
    .select()
    .from(webhookEndpoints)
    .where(and(
      eq(webhookEndpoints.userId, userId),
      after && or(lt(webhookEndpoints.createdAt, after.c), and(eq(webhookEndpoints.createdAt, after.c), lt(webhookEndpoints.id, after.i))),
    ))
    .orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id))
    .limit(q.limit + 1);
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  const now = deps.now();
  return {
    data: page.map((r) => toEndpointView(r, now)),
    next_cursor: rows.length > q.limit && last ? encodeCursor({ c: last.createdAt, i: last.id }) : null,
  };
}

/** The caller's endpoint; another user's id, an unknown one or one that is not an id is 404. */
export async function findEndpoint(deps: Pick<Deps, "db">, userId: string, id: string): Promise<EndpointRow> {
  if (!UUID.test(id)) throw noSuchEndpoint();
  const row = await deps.db.select().from(webhookEndpoints).where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.userId, userId))).get();
  if (!row) throw noSuchEndpoint();
  return row;
}

export async function getEndpoint(deps: Pick<Deps, "db" | "now">, userId: string, id: string): Promise<EndpointView> {
  return toEndpointView(await findEndpoint(deps, userId, id), deps.now());
}

/**
 * DELETE /webhook-endpoints/{id}: the endpoint goes with its deliveries (pending ones included:
 * nothing is sent to it any more) and their attempts, in one batch. The events stay for the
 * user's other endpoints until the 30-day purge.
 */
export async function deleteEndpoint(deps: Pick<Deps, "db" | "d1">, userId: string, id: string): Promise<void> {
  await findEndpoint(deps, userId, id);
  const results = await runBatch(deps.d1, [
    sql`DELETE FROM webhook_attempts WHERE endpoint_id = ${id} AND user_id = ${userId}`,
    sql`DELETE FROM webhook_deliveries WHERE endpoint_id = ${id} AND user_id = ${userId}`,
    sql`DELETE FROM webhook_endpoints WHERE id = ${id} AND user_id = ${userId}`,
  ]);
  if (results[2]?.meta.changes === 0) throw noSuchEndpoint(); // deleted meanwhile
}

/**
 * POST /webhook-endpoints/{id}/rotate-secret: a new secret signs from now on; the one it replaces
 * keeps signing for 24 h (a rotation within those 24 h drops the older one: two secrets at most).
 * The update applies only to the secret it read, so two rotations at once each leave the secret
 * they returned either current or previous.
 */
export async function rotateEndpointSecret(deps: Pick<Deps, "db" | "keyring" | "now">, userId: string, id: string): Promise<EndpointView & { secret: string }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await findEndpoint(deps, userId, id);
    const label = aad.webhookEndpointSecret(userId, id);
    // A secret under a retired encryption key cannot sign any more: it is not kept as the previous one.
    const readable = (await openStored(deps.keyring, row.secretEnvelope, label)) !== null;
    const secret = newWebhookSecret();
    const now = deps.now();
    const updated = await deps.db
      .update(webhookEndpoints)
      .set({
        secretEnvelope: await deps.keyring.encrypt(secret, label),
        previousSecretEnvelope: readable ? row.secretEnvelope : null,
        previousSecretUntil: readable ? now + PREVIOUS_SECRET_MS : null,
      })
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.userId, userId), eq(webhookEndpoints.secretEnvelope, row.secretEnvelope)))
      .returning()
      .get();
    if (updated) return { ...toEndpointView(updated, now), secret };
  }
  throw new AppError(409, "rotation_conflict", "Rotated meanwhile", "The secret was being rotated by another request; try again.");
}

/**
 * POST /webhook-endpoints/{id}/enable: a disabled endpoint gets events again, from now on (what
 * happened while it was disabled is not sent). An enabled one is left as it is.
 */
export async function enableEndpoint(deps: Pick<Deps, "db" | "now">, userId: string, id: string): Promise<EndpointView> {
  await findEndpoint(deps, userId, id);
  const row = await deps.db
    .update(webhookEndpoints)
    .set({ disabledAt: null, disabledReason: null, failingSince: null })
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.userId, userId), sql`${webhookEndpoints.disabledAt} IS NOT NULL`))
    .returning()
    .get();
  return toEndpointView(row ?? (await findEndpoint(deps, userId, id)), deps.now());
}

/**
 * POST /webhook-endpoints/{id}/test: a `ping` event (`data: {}`) delivered to this endpoint only,
 * the way every event is (signed, retried). A queue send that fails is left to the hourly sweep.
 */
export async function sendTestEvent(deps: Pick<Deps, "db" | "d1" | "now" | "webhookQueue">, userId: string, id: string): Promise<{ event_id: string }> {
  const endpoint = await findEndpoint(deps, userId, id);
  if (endpoint.disabledAt !== null) {
    throw new AppError(409, "endpoint_disabled", "Endpoint disabled", "This endpoint is disabled; POST …/enable first.");
  }
  const eventId = newEventId();
  const now = deps.now();
  await deps.db.batch([
    deps.db.insert(webhookEvents).values({ id: eventId, userId, type: PING_EVENT_TYPE, subject: null, data: "{}", createdAt: now }),
    deps.db.insert(webhookDeliveries).values({ endpointId: id, eventId, userId, status: "pending", attempts: 0, nextAttemptAt: now, createdAt: now }),
  ]);
  try {
    await deps.webhookQueue.send(deliveryMessage(userId, id, eventId));
  } catch (err) {
    console.warn(JSON.stringify({ level: "warn", msg: "test event not queued; the hourly sweep sends it", user_id: userId, error: err instanceof Error ? err.name : "unknown" }));
  }
  return { event_id: eventId };
}

const deliveryCursor = z.strictObject({ c: z.number().int(), e: z.string().max(64) });

/** GET /webhook-endpoints/{id}/deliveries: newest first, each with its attempts; a constant number of queries. */
export async function listDeliveries(
  deps: Pick<Deps, "db">,
  userId: string,
  id: string,
  q: { limit: number; cursor?: string; status?: DeliveryView["status"] },
): Promise<{ data: DeliveryView[]; next_cursor: string | null }> {
  const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, deliveryCursor);
  await findEndpoint(deps, userId, id);
  const d = webhookDeliveries;
  const rows = await deps.db
    .select({
      eventId: d.eventId, type: webhookEvents.type, status: d.status, attempts: d.attempts, nextAttemptAt: d.nextAttemptAt,
      lastAttemptAt: d.lastAttemptAt, lastStatusCode: d.lastStatusCode, lastError: d.lastError, createdAt: d.createdAt,
    })
    .from(d)
    .innerJoin(webhookEvents, and(eq(webhookEvents.id, d.eventId), eq(webhookEvents.userId, d.userId)))
    .where(and(
      eq(d.endpointId, id),
      eq(d.userId, userId),
      q.status && eq(d.status, q.status),
      after && or(lt(d.createdAt, after.c), and(eq(d.createdAt, after.c), lt(d.eventId, after.e))),
    ))
    .orderBy(desc(d.createdAt), desc(d.eventId))
    .limit(q.limit + 1);
  const page = rows.slice(0, q.limit);
  const attempts = page.length === 0 ? [] : await deps.db
    .select()
    .from(webhookAttempts)
    .where(and(
      eq(webhookAttempts.endpointId, id),
      eq(webhookAttempts.userId, userId),
      // One bound value whatever the page size (D1 binds at most 100 per statement).
      sql`${webhookAttempts.eventId} IN (SELECT value FROM json_each(${JSON.stringify(page.map((r) => r.eventId))}))`,
    ))
    .orderBy(webhookAttempts.eventId, webhookAttempts.attempt);
  const byEvent = new Map<string, typeof attempts>();
  for (const a of attempts) byEvent.set(a.eventId, [...(byEvent.get(a.eventId) ?? []), a]);
  const last = page.at(-1);
  return {
    data: page.map((r) => ({
      event_id: r.eventId,
      event_type: r.type,
      status: r.status,
      attempt_count: r.attempts,
      next_attempt_at: r.status === "pending" ? isoOrNull(r.nextAttemptAt) : null,
      last_attempt_at: isoOrNull(r.lastAttemptAt),
      last_status_code: r.lastStatusCode,
      last_error: r.lastError,
      created_at: isoUtc(r.createdAt),
      attempts: (byEvent.get(r.eventId) ?? []).map((a) => ({
        attempt: a.attempt, at: isoUtc(a.at), duration_ms: a.durationMs, status_code: a.statusCode, error: a.error,
      })),
    })),
    next_cursor: rows.length > q.limit && last ? encodeCursor({ c: last.createdAt, e: last.eventId }) : null,
  };
}
