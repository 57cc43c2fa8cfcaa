import { type SQL, sql } from "drizzle-orm";
import { runBatch } from "../db/batch";
import type { Deps } from "../deps";
import { signatures } from "../lib/standard-webhooks";
import { isoUtc } from "../lib/time";
import type { WebhookDeliveryMessage } from "../queue/messages";
import { aad, openStored } from "./webhook-subscription";

// One attempt to deliver one event to one endpoint (SPEC §15), as Standard Webhooks says: the
// same body and `webhook-id` on every attempt, a fresh `webhook-timestamp`, signed with the
// endpoint's secret (and the previous one for 24 h after a rotation). A 2xx within the timeout is
// delivered; anything else is retried on Svix's schedule through the queue. The attempt count
// and the schedule live in D1, so a duplicated or redelivered message attempts nothing twice.

export interface WebhookDeliveryOptions {
  /** How long the endpoint has to answer (SPEC §15: 10 s). */
  timeoutMs: number;
  /** The signal that ends an attempt after `timeoutMs`; tests pass one they abort themselves. */
  timeoutSignal: (timeoutMs: number) => AbortSignal;
}

export const defaultWebhookDeliveryOptions: WebhookDeliveryOptions = {
  timeoutMs: 10_000,
  timeoutSignal: (ms) => AbortSignal.timeout(ms),
};

/** Waits after failed attempt n (1-based): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — 8 attempts over about 27.6 h. */
export const RETRY_DELAYS_SECONDS = [5, 300, 1800, 7200, 18_000, 36_000, 36_000] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1;
/** An endpoint failing (no success since its first failure) this long is disabled at its next failure. */
export const DISABLE_AFTER_MS = 5 * 24 * 60 * 60 * 1000;
export const DISABLED_REASON = "failing for 5 days";
/**
 * A claimed attempt's hold: longer than the timeout plus the writes, so a redelivered message
 * (a crash mid-attempt) does not attempt it again before then; the consumer's retry waits longer.
 */
export const CLAIM_LEASE_MS = 60_000;
/** How early a message may come for its attempt: clocks of two machines differ a little. */
const EARLY_TOLERANCE_MS = 2_000;
export const USER_AGENT = "VitalTrends-Webhooks/1";

export type DeliveryOutcome = "delivered" | "retry_scheduled" | "failed" | "skipped";

interface DeliveryRow {
  status: "pending" | "delivered" | "failed";
  attempts: number;
  next_attempt_at: number | null;
  event_id: string | null;
  type: string | null;
  data: string | null;
  event_created_at: number | null;
  endpoint_id: string | null;
  url: string | null;
  secret_envelope: string | null;
  previous_secret_envelope: string | null;
  previous_secret_until: number | null;
  disabled_at: number | null;
}

/** The body every attempt of an event sends, byte for byte. */
export const webhookBody = (type: string, createdAt: number, data: string) =>
  JSON.stringify({ type, timestamp: isoUtc(createdAt), data: JSON.parse(data) as unknown });

/** Delivers `msg`'s event to its endpoint once, if that attempt is due and not made yet. */
export async function deliverWebhook(
  deps: Pick<Deps, "d1" | "keyring" | "now" | "webhookQueue">,
  msg: WebhookDeliveryMessage,
  options: WebhookDeliveryOptions = defaultWebhookDeliveryOptions,
): Promise<DeliveryOutcome> {
  const { userId, endpointId, eventId } = msg;
  const now = deps.now();
  // Every row is looked up with the message's user: a message naming another user's endpoint finds nothing.
  const row = await deps.d1
    .prepare(`SELECT d.status, d.attempts, d.next_attempt_at, e.id AS event_id, e.type, e.data, e.created_at AS event_created_at,
        ep.id AS endpoint_id, ep.url, ep.secret_envelope, ep.previous_secret_envelope, ep.previous_secret_until, ep.disabled_at
      FROM webhook_deliveries d
        LEFT JOIN webhook_events e ON e.id = d.event_id AND e.user_id = d.user_id
        LEFT JOIN webhook_endpoints ep ON ep.id = d.endpoint_id AND ep.user_id = d.user_id
      WHERE d.endpoint_id = ? AND d.event_id = ? AND d.user_id = ?`)
    .bind(endpointId, eventId, userId)
    .first<DeliveryRow>();
  if (!row || row.status !== "pending") return "skipped";
  if (row.endpoint_id === null || row.disabled_at !== null || row.event_id === null) {
    const reason = row.endpoint_id === null ? "endpoint deleted" : row.disabled_at !== null ? "endpoint disabled" : "event expired";
    await deps.d1
      .prepare("UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, last_error = ? WHERE endpoint_id = ? AND event_id = ? AND user_id = ? AND status = 'pending'")
      .bind(reason, endpointId, eventId, userId)
      .run();
    return "failed";
  }
  if (row.next_attempt_at !== null && row.next_attempt_at > now + EARLY_TOLERANCE_MS) return "skipped";

  // Claim the attempt: of two deliveries of the same message, one gets it; the other does nothing.
  const claimed = await deps.d1
    .prepare(`UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = ?1, next_attempt_at = ?2
      WHERE endpoint_id = ?3 AND event_id = ?4 AND user_id = ?5 AND status = 'pending' AND attempts = ?6
        AND (next_attempt_at IS NULL OR next_attempt_at <= ?7)
      RETURNING attempts`)
    .bind(now, now + CLAIM_LEASE_MS, endpointId, eventId, userId, row.attempts, now + EARLY_TOLERANCE_MS)
    .first<{ attempts: number }>();
  if (!claimed) return "skipped";
  const attempt = claimed.attempts;

  const result = await attemptDelivery(deps, row as AttemptRow, userId, now, options);
  return recordAttempt(deps, msg, attempt, now, result);
}

type AttemptRow = DeliveryRow & { event_id: string; type: string; data: string; event_created_at: number; endpoint_id: string; url: string; secret_envelope: string };

interface AttemptResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** The signing secrets in order: the current one, then the previous one while it is honoured. */
async function signingSecrets(deps: Pick<Deps, "keyring">, row: AttemptRow, userId: string, now: number): Promise<string[] | null> {
  const label = aad.webhookEndpointSecret(userId, row.endpoint_id);
  const current = await openStored(deps.keyring, row.secret_envelope, label);
  if (current === null) return null;
  const previous = (row.previous_secret_until ?? 0) > now ? await openStored(deps.keyring, row.previous_secret_envelope, label) : null;
  return previous === null ? [current] : [current, previous];
}

/** One POST to the endpoint: its status code, or why there is none. Never follows a redirect. */
async function attemptDelivery(deps: Pick<Deps, "keyring" | "now">, row: AttemptRow, userId: string, now: number, options: WebhookDeliveryOptions): Promise<AttemptResult> {
  const secrets = await signingSecrets(deps, row, userId, now);
  if (!secrets) return { statusCode: null, error: "signing secret unreadable: rotate the endpoint's secret", durationMs: 0 };
  const body = webhookBody(row.type, row.event_created_at, row.data);
  const timestamp = Math.floor(now / 1000);
  const headers = {
    "content-type": "application/json",
    "user-agent": USER_AGENT,
    "webhook-id": row.event_id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signatures(secrets, row.event_id, timestamp, body),
  };
  const signal = options.timeoutSignal(options.timeoutMs);
  const started = deps.now();
  try {
    const res = await untilAborted(fetch(row.url, { method: "POST", headers, body, redirect: "manual", signal }), signal);
    // The body is never read or kept: it is the receiver's, and only the status code counts.
    void res.body?.cancel().catch(() => {});
    const error = res.status >= 300 && res.status < 400 ? "redirect not followed" : null;
    return { statusCode: res.status, error, durationMs: Math.max(0, deps.now() - started) };
  } catch (err) {
    const error = signal.aborted
      ? `no answer within ${options.timeoutMs / 1000} s`
      : `connection failed: ${describe(err, row.url)}`;
    return { statusCode: null, error, durationMs: Math.max(0, deps.now() - started) };
  }
}

/** `promise`, or a rejection as soon as `signal` aborts, whether or not the fetch itself notices. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new Error("aborted"));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** A network error in a few words, without the URL (it may carry a token of the receiver's). */
function describe(err: unknown, url: string): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split(url).join("<url>").replace(/\s+/g, " ").slice(0, 200) || "network error";
}

const isSuccess = (r: AttemptResult) => r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300;

/**
 * Writes the attempt and its consequences in one batch — the attempt row, the delivery's next
 * state, the endpoint's failing_since, and after 5 days of failures its disabling (which fails its
 * other pending deliveries) — then queues the next attempt. Every write applies only while the
 * delivery is at this attempt: a delivery deleted with its endpoint meanwhile leaves nothing behind.
 */
async function recordAttempt(deps: Pick<Deps, "d1" | "now" | "webhookQueue">, msg: WebhookDeliveryMessage, attempt: number, at: number, result: AttemptResult): Promise<DeliveryOutcome> {
  const { userId, endpointId, eventId } = msg;
  const now = deps.now();
  const ok = isSuccess(result);
  const outcome: DeliveryOutcome = ok ? "delivered" : attempt >= MAX_ATTEMPTS ? "failed" : "retry_scheduled";
  const delaySeconds = outcome === "retry_scheduled" ? RETRY_DELAYS_SECONDS[attempt - 1]! : null;
  const nextAttemptAt = delaySeconds === null ? null : now + delaySeconds * 1000;
  const status = outcome === "retry_scheduled" ? "pending" : outcome;
  const atThisAttempt = sql`endpoint_id = ${endpointId} AND event_id = ${eventId} AND user_id = ${userId} AND attempts = ${attempt} AND status = 'pending'`;
  const endpoint = sql`id = ${endpointId} AND user_id = ${userId}`;
  const statements: SQL[] = [
    sql`INSERT INTO webhook_attempts (endpoint_id, event_id, attempt, user_id, at, duration_ms, status_code, error)
      SELECT ${endpointId}, ${eventId}, ${attempt}, ${userId}, ${at}, ${result.durationMs}, ${result.statusCode}, ${result.error}
      WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE ${atThisAttempt})
      ON CONFLICT DO NOTHING`,
    sql`UPDATE webhook_deliveries SET status = ${status}, next_attempt_at = ${nextAttemptAt}, last_status_code = ${result.statusCode}, last_error = ${result.error}
      WHERE ${atThisAttempt}`,
  ];
  if (ok) {
    statements.push(sql`UPDATE webhook_endpoints SET failing_since = NULL WHERE ${endpoint}`);
  } else {
    statements.push(
      sql`UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, ${at}) WHERE ${endpoint}`,
      sql`UPDATE webhook_endpoints SET disabled_at = ${now}, disabled_reason = ${DISABLED_REASON}
        WHERE ${endpoint} AND disabled_at IS NULL AND failing_since <= ${now - DISABLE_AFTER_MS} RETURNING id`,
      sql`UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, last_error = 'endpoint disabled'
        WHERE endpoint_id = ${endpointId} AND user_id = ${userId} AND status = 'pending'
          AND EXISTS (SELECT 1 FROM webhook_endpoints WHERE ${endpoint} AND disabled_at IS NOT NULL)`,
    );
  }
  const results = await runBatch(deps.d1, statements);
  const disabled = !ok && (results[3]?.results?.length ?? 0) > 0;
  if (disabled) {
    console.warn(JSON.stringify({ level: "warn", msg: "webhook endpoint disabled: failing for 5 days", user_id: userId, endpoint_id: endpointId }));
  }
  if (results[1]?.meta.changes === 0) return "skipped"; // the endpoint was deleted meanwhile
  if (disabled) return "failed";
  if (outcome === "retry_scheduled") {
    try {
      await deps.webhookQueue.send(msg, { delaySeconds: delaySeconds! });
    } catch (err) {
      // The delivery is pending in D1 with its time: the hourly sweep sends it again.
      console.warn(JSON.stringify({ level: "warn", msg: "webhook retry not queued; the hourly sweep sends it", user_id: userId, error: err instanceof Error ? err.name : "unknown" }));
    }
  }
  return outcome;
}
