import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../src/env";
import worker from "../src/index";
import { RETRY_DELAYS_SECONDS } from "../src/services/webhook-delivery";
import { createUser, dbOf, expectProblem, useTestContext } from "./helpers";
import {
  clockAt, createEndpoint, deliveries, drainWebhooks, ENDPOINTS, endpointView, ping, receiver, runWebhookBatch, signaturesOf, takeDelayed, verifyWith,
} from "./webhook-helpers";

// Delivering outgoing webhooks (SPEC §15) through the WEBHOOK_QUEUE consumer: Standard Webhooks
// headers and signatures (checked with the reference library on every delivery), Svix's retry
// schedule through delayed messages, secret rotation, timeouts, redirects, duplicates, the 5-day
// disable, and the hourly sweep and purge. Time moves through the app's clock (deps.now), never
// by waiting.

const A = "https://a.consumer.test";
const B = "https://b.consumer.test";
const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("delivering a webhook", () => {
  const t = useTestContext();
  afterEach(() => vi.restoreAllMocks());

  it("POSTs the event as Standard Webhooks: headers, body, and a signature the reference library verifies", async () => {
    const user = await createUser(t);
    const endpoint = await createEndpoint(t, user, { url: `${A}/hooks?app=1` });
    const consumer = receiver(t, A, () => new Response(null, { status: 204 }));
    const eventId = await ping(t, user, endpoint.id);
    const clock = clockAt(Date.now() + 30 * SECOND);
    await drainWebhooks(t, clock.options);

    expect(consumer.received).toHaveLength(1);
    const [r] = consumer.received;
    expect(r!.url).toBe(`${A}/hooks?app=1`);
    expect(r!.method).toBe("POST");
    expect(r!.redirect).toBe("manual");
    expect(r!.headers).toMatchObject({
      "content-type": "application/json",
      "user-agent": "VitalTrends-Webhooks/1",
      "webhook-id": eventId,
      "webhook-timestamp": String(Math.floor(clock.now / 1000)),
    });
    expect(signaturesOf(r!)).toHaveLength(1);
    expect(verifyWith(endpoint.secret, r!)).toEqual({ type: "ping", timestamp: expect.any(String), data: {} });
    // Another secret does not verify it.
    const other = await createEndpoint(t, user, { url: `${B}/x` });
    expect(() => verifyWith(other.secret, r!)).toThrow(/No matching signature/);
    // A 204 is a 2xx: delivered.
    expect(await deliveries(t, user, endpoint.id)).toMatchObject([{ status: "delivered", attempt_count: 1, last_status_code: 204 }]);
    expect(t.webhookQueue.delayed).toEqual([]);
  });

  it("retries a failing endpoint after 5 s, then 5 min, with the same webhook-id and body; the deliveries show every attempt", async () => {
    const user = await createUser(t);
    const endpoint = await createEndpoint(t, user, { url: `${A}/flaky` });
    const consumer = receiver(t, A, (_req, n) => new Response(n <= 2 ? "boom" : "ok", { status: n <= 2 ? 500 : 200 }));
    const eventId = await ping(t, user, endpoint.id);
    const start = Date.now();
    const clock = clockAt(start);

    await drainWebhooks(t, clock.options);
    const first = takeDelayed(t);
    expect(first.map((d) => d.delaySeconds)).toEqual([5]);
    expect((await deliveries(t, user, endpoint.id))[0]).toMatchObject({ status: "pending", attempt_count: 1, last_status_code: 500, next_attempt_at: new Date(start + 5 * SECOND).toISOString().replace(".000", "") });

    clock.now = start + 5 * SECOND;
    await runWebhookBatch(t, first.map((d) => d.body), clock.options);
    const second = takeDelayed(t);
    expect(second.map((d) => d.delaySeconds)).toEqual([300]);

    clock.now = start + 5 * SECOND + 300 * SECOND;
    await runWebhookBatch(t, second.map((d) => d.body), clock.options);
    expect(takeDelayed(t)).toEqual([]);
    expect(t.webhookQueue.messages).toEqual([]);

    expect(consumer.received).toHaveLength(3);
    expect(new Set(consumer.received.map((r) => r.headers["webhook-id"]))).toEqual(new Set([eventId]));
    expect(new Set(consumer.received.map((r) => r.body)).size).toBe(1);
    expect(consumer.received.map((r) => Number(r.headers["webhook-timestamp"]))).toEqual(
      [start, start + 5 * SECOND, start + 305 * SECOND].map((ms) => Math.floor(ms / 1000)),
    );
    for (const r of consumer.received) verifyWith(endpoint.secret, r);

    const [delivery] = await deliveries(t, user, endpoint.id);
    expect(delivery).toMatchObject({ event_id: eventId, event_type: "ping", status: "delivered", attempt_count: 3, last_status_code: 200, next_attempt_at: null });
    expect(delivery!.attempts.map((a) => [a.attempt, a.status_code, a.error])).toEqual([[1, 500, null], [2, 500, null], [3, 200, null]]);
    expect(delivery!.attempts.map((a) => Date.parse(a.at))).toEqual([start, start + 5 * SECOND, start + 305 * SECOND]);
    // The response bodies are never kept.
    const stored = await (await dbOf(user.id)).prepare("SELECT * FROM webhook_attempts WHERE event_id = ?").bind(eventId).all();
    expect(JSON.stringify(stored.results)).not.toMatch(/boom|ok"/);
    expect((await endpointView(t, user, endpoint.id)).failing_since).toBeNull();
  });

  it("gives up after 8 attempts on Svix's schedule (over 27 h), and marks the delivery failed", async () => {
    const user = await createUser(t);
    const endpoint = await createEndpoint(t, user, { url: `${A}/down` });
    const consumer = receiver(t, A, () => new Response(null, { status: 503 }));
    await ping(t, user, endpoint.id);
    const clock = clockAt(Date.now());
    await drainWebhooks(t, clock.options);
    const delays: number[] = [];
    for (let next = takeDelayed(t); next.length > 0; next = takeDelayed(t)) {
      delays.push(next[0]!.delaySeconds);
      clock.now += next[0]!.delaySeconds * SECOND;
      await runWebhookBatch(t, next.map((d) => d.body), clock.options);
    }
    expect(delays).toEqual([...RETRY_DELAYS_SECONDS]);
    expect(delays.reduce((a, b) => a + b, 0) * SECOND).toBeGreaterThan(DAY);
    expect(consumer.received).toHaveLength(8);
    const [delivery] = await deliveries(t, user, endpoint.id);
    expect(delivery).toMatchObject({ status: "failed", attempt_count: 8, next_attempt_at: null, last_status_code: 503 });
    expect(delivery!.attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // Failing for about 27.6 h: not yet 5 days, so still enabled.
    expect(await endpointView(t, user, endpoint.id)).toMatchObject({ status: "enabled", failing_since: expect.any(String) });
  });

  it("a redirect is a failure and is not followed; a network error is recorded without the URL", async () => {
    const user = await createUser(t);
    const moved = await createEndpoint(t, user, { url: `${A}/old` });
    const unreachable = await createEndpoint(t, user, { url: "https://nobody.consumer.test/secret-token-in-path" });
    receiver(t, A, () => new Response(null, { status: 301, headers: { location: `${B}/new` } }));
    const target = receiver(t, B);
    await ping(t, user, moved.id);
    await ping(t, user, unreachable.id);
    await drainWebhooks(t);
    expect(target.received).toEqual([]);
    expect((await deliveries(t, user, moved.id))[0]).toMatchObject({
      status: "pending", last_status_code: 301, last_error: "redirect not followed", attempts: [{ attempt: 1, status_code: 301, error: "redirect not followed" }],
    });
    const [lost] = await deliveries(t, user, unreachable.id);
    expect(lost).toMatchObject({ status: "pending", last_status_code: null });
    expect(lost!.last_error).toMatch(/^connection failed: /);
    expect(lost!.last_error).not.toContain("secret-token-in-path");
    expect(takeDelayed(t).map((d) => d.delaySeconds)).toEqual([5, 5]);
  });

  it("a duplicated queue message attempts once: in the same batch, again after success, and again right after a failure", async () => {
    const user = await createUser(t);
    const ok = await createEndpoint(t, user, { url: `${A}/ok` });
    const failing = await createEndpoint(t, user, { url: `${B}/failing` });
    const good = receiver(t, A);
    const bad = receiver(t, B, () => new Response(null, { status: 500 }));
    await ping(t, user, ok.id);
    await ping(t, user, failing.id);
    const messages = t.webhookQueue.take();
    const clock = clockAt(Date.now());
    const outcome = await runWebhookBatch(t, [...messages, ...messages], clock.options);
    expect(outcome.explicitAcks).toHaveLength(4);
    expect(outcome.retryMessages).toEqual([]);
    expect([good.received.length, bad.received.length]).toEqual([1, 1]);
    // Again: delivered stays delivered; the failed one's next attempt is due in 5 s, not now.
    clock.now += 1 * SECOND;
    await runWebhookBatch(t, messages, clock.options);
    expect([good.received.length, bad.received.length]).toEqual([1, 1]);
    expect(takeDelayed(t).map((d) => d.delaySeconds)).toEqual([5]);
    expect((await deliveries(t, user, failing.id))[0]!.attempt_count).toBe(1);
  });

  it("never sends one user's events to another user's endpoint, even when a message names it", async () => {
    const alice = await createUser(t);
    const bob = await createUser(t);
    const aliceEndpoint = await createEndpoint(t, alice, { url: `${A}/alice` });
    const bobEndpoint = await createEndpoint(t, bob, { url: `${B}/bob` });
    const toAlice = receiver(t, A);
    const toBob = receiver(t, B);
    const eventId = await ping(t, alice, aliceEndpoint.id);
    await drainWebhooks(t);
    expect(toAlice.received).toHaveLength(1);
    expect(toBob.received).toEqual([]);
    // Forged messages: Bob's user with Alice's endpoint and event, Alice's event to Bob's endpoint.
    await runWebhookBatch(t, [
      { type: "webhook_delivery", userId: bob.id, endpointId: aliceEndpoint.id, eventId },
      { type: "webhook_delivery", userId: alice.id, endpointId: bobEndpoint.id, eventId },
      { type: "webhook_delivery", userId: bob.id, endpointId: bobEndpoint.id, eventId },
    ]);
    expect(toAlice.received).toHaveLength(1);
    expect(toBob.received).toEqual([]);
    expect(await deliveries(t, bob, bobEndpoint.id)).toEqual([]);
  });

  it("signs with both secrets for 24 h after a rotation (either verifies), then with the new one only", async () => {
    const user = await createUser(t);
    const endpoint = await createEndpoint(t, user, { url: `${A}/rotating` });
    const consumer = receiver(t, A);
    const rotatedAt = Date.now();
    const res = await t.request(`${ENDPOINTS}/${endpoint.id}/rotate-secret`, { method: "POST", token: user.token });
    const { secret: fresh } = (await res.json()) as { secret: string };

    await ping(t, user, endpoint.id);
    const clock = clockAt(rotatedAt + HOUR);
    await drainWebhooks(t, clock.options);
    const during = consumer.received[0]!;
    expect(signaturesOf(during)).toHaveLength(2);
    expect(verifyWith(fresh, during)).toMatchObject({ type: "ping" });
    expect(verifyWith(endpoint.secret, during)).toMatchObject({ type: "ping" });

    await ping(t, user, endpoint.id);
    clock.now = rotatedAt + DAY + 2 * SECOND;
    await drainWebhooks(t, clock.options);
    const after = consumer.received[1]!;
    expect(signaturesOf(after)).toHaveLength(1);
    expect(verifyWith(fresh, after)).toMatchObject({ type: "ping" });
    expect(() => verifyWith(endpoint.secret, after)).toThrow(/No matching signature/);

    // A second rotation within 24 h keeps two secrets: the newest and the one it replaced.
    const third = (await (await t.request(`${ENDPOINTS}/${endpoint.id}/rotate-secret`, { method: "POST", token: user.token })).json()) as { secret: string };
    const fourth = (await (await t.request(`${ENDPOINTS}/${endpoint.id}/rotate-secret`, { method: "POST", token: user.token })).json()) as { secret: string };
    await ping(t, user, endpoint.id);
    clock.now = Date.now();
    await drainWebhooks(t, clock.options);
    const last = consumer.received[2]!;
    expect(signaturesOf(last)).toHaveLength(2);
    verifyWith(fourth.secret, last);
    verifyWith(third.secret, last);
    expect(() => verifyWith(fresh, last)).toThrow(/No matching signature/);
  });

  it("a slow endpoint times out without holding up another endpoint's delivery in the same batch", async () => {
    const user = await createUser(t);
    const slow = await createEndpoint(t, user, { url: `${A}/slow` });
    const fast = await createEndpoint(t, user, { url: `${B}/fast` });
    // The slow one answers only when its request is aborted (then it fails); the fast one at once.
    let slowAborted = false;
    receiver(t, A, (req) => new Promise<Response>((_, reject) => req.signal.addEventListener("abort", () => {
      slowAborted = true;
      reject(new DOMException("aborted", "AbortError"));
    })));
    const fastReceiver = receiver(t, B);
    await ping(t, user, slow.id);
    await ping(t, user, fast.id);
    const db = await dbOf(user.id);
    const statusOf = async (endpointId: string) =>
      (await db.prepare("SELECT status FROM webhook_deliveries WHERE endpoint_id = ?").bind(endpointId).first<{ status: string }>())!.status;

    // The timeout: a signal the test aborts itself, once the fast delivery is recorded as delivered
    // (checked after each D1 batch the consumer makes) — while the slow request is still open.
    const timeout = new AbortController();
    let fastDoneBeforeTimeout = false;
    const wrapD1 = (d1: D1Database): D1Database =>
      new Proxy(d1, {
        get(target, prop) {
          if (prop === "batch") {
            return async (statements: D1PreparedStatement[]) => {
              const results = await target.batch(statements);
              if (!timeout.signal.aborted && (await statusOf(fast.id)) === "delivered") {
                fastDoneBeforeTimeout = (await statusOf(slow.id)) === "pending" && fastReceiver.received.length === 1;
                timeout.abort(new DOMException("timed out", "TimeoutError"));
              }
              return results;
            };
          }
          const v = Reflect.get(target, prop);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
    const outcome = await runWebhookBatch(t, t.webhookQueue.take(), { deps: { wrapD1 }, webhook: { timeoutSignal: () => timeout.signal } });

    expect(fastDoneBeforeTimeout).toBe(true);
    expect(outcome.explicitAcks).toHaveLength(2);
    expect((await deliveries(t, user, fast.id))[0]).toMatchObject({ status: "delivered", last_status_code: 200 });
    const [timedOut] = await deliveries(t, user, slow.id);
    expect(timedOut).toMatchObject({ status: "pending", attempt_count: 1, last_status_code: null, last_error: "no answer within 10 s" });
    expect(takeDelayed(t)).toEqual([{ body: { type: "webhook_delivery", userId: user.id, endpointId: slow.id, eventId: timedOut!.event_id }, delaySeconds: 5 }]);
    expect(slowAborted).toBe(true);
  });

  it("disables an endpoint failing for 5 days, fails its pending deliveries, and takes events again once enabled", async () => {
    const user = await createUser(t);
    const endpoint = await createEndpoint(t, user, { url: `${A}/dying` });
    let status = 500;
    const consumer = receiver(t, A, () => new Response(null, { status }));
    const start = Date.now();
    const clock = clockAt(start);
    const warnings: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: unknown) => void warnings.push(String(line)));

    const first = await ping(t, user, endpoint.id);
    await drainWebhooks(t, clock.options);
    const retryOfFirst = takeDelayed(t);
    expect(await endpointView(t, user, endpoint.id)).toMatchObject({ status: "enabled", failing_since: new Date(start).toISOString().replace(".000", "") });

    // Failing ever since: a failure just short of 5 days leaves it enabled; one at 5 days disables it.
    await ping(t, user, endpoint.id);
    clock.now = start + 5 * DAY - SECOND;
    await drainWebhooks(t, clock.options);
    takeDelayed(t);
    expect((await endpointView(t, user, endpoint.id)).status).toBe("enabled");
    await ping(t, user, endpoint.id);
    clock.now = start + 5 * DAY;
    await drainWebhooks(t, clock.options);
    expect(takeDelayed(t)).toEqual([]);
    const view = await endpointView(t, user, endpoint.id);
    expect(view).toMatchObject({ status: "disabled", disabled_reason: "failing for 5 days", disabled_at: new Date(start + 5 * DAY).toISOString().replace(".000", "") });
    const all = await deliveries(t, user, endpoint.id);
    expect(all.map((d) => d.status)).toEqual(["failed", "failed", "failed"]);
    expect(all.find((d) => d.event_id === first)).toMatchObject({ last_error: "endpoint disabled", next_attempt_at: null });
    expect(warnings.some((w) => w.includes("webhook endpoint disabled"))).toBe(true);
    for (const w of warnings) expect(w).not.toContain(endpoint.secret.slice(6));

    // The first event's retry arrives later: nothing is sent to a disabled endpoint.
    const seen = consumer.received.length;
    clock.now += HOUR;
    await runWebhookBatch(t, retryOfFirst.map((d) => d.body), clock.options);
    expect(consumer.received.length).toBe(seen);
    await expectProblem(await t.request(`${ENDPOINTS}/${endpoint.id}/test`, { method: "POST", token: user.token }), 409, "endpoint_disabled");

    // Enabled again (the receiver is fixed): events flow.
    const enabled = await t.request(`${ENDPOINTS}/${endpoint.id}/enable`, { method: "POST", token: user.token });
    expect(enabled.status).toBe(200);
    expect(await enabled.json()).toMatchObject({ status: "enabled", disabled_at: null, disabled_reason: null, failing_since: null });
    status = 200;
    await ping(t, user, endpoint.id);
    await drainWebhooks(t, clock.options);
    expect(consumer.received.length).toBe(seen + 1);
    expect((await deliveries(t, user, endpoint.id))[0]).toMatchObject({ event_type: "ping", status: "delivered" });
  });

  it("a success in between resets the failing clock", async () => {
    const user = await createUser(t);
    const endpoint = await createEndpoint(t, user, { url: `${A}/wobbly` });
    let status = 500;
    receiver(t, A, () => new Response(null, { status }));
    const start = Date.now();
    const clock = clockAt(start);
    await ping(t, user, endpoint.id);
    await drainWebhooks(t, clock.options);
    takeDelayed(t);
    status = 200;
    await ping(t, user, endpoint.id);
    clock.now = start + 3 * DAY;
    await drainWebhooks(t, clock.options);
    expect((await endpointView(t, user, endpoint.id)).failing_since).toBeNull();
    status = 500;
    await ping(t, user, endpoint.id);
    clock.now = start + 6 * DAY;
    await drainWebhooks(t, clock.options);
    expect(await endpointView(t, user, endpoint.id)).toMatchObject({ status: "enabled", failing_since: new Date(start + 6 * DAY).toISOString().replace(".000", "") });
  });

  it("acknowledges a malformed message without retrying it, and makes a moving user's delivery wait", async () => {
    const user = await createUser(t);
    const endpoint = await createEndpoint(t, user, { url: `${A}/moving` });
    const consumer = receiver(t, A);
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void errors.push(String(line)));
    const poison = await runWebhookBatch(t, [{ type: "webhook_delivery", userId: 7 }, "garbage"]);
    expect(poison.explicitAcks).toHaveLength(2);
    expect(poison.retryMessages).toEqual([]);
    expect(errors.filter((e) => e.includes("poison webhook message"))).toHaveLength(2);

    await ping(t, user, endpoint.id);
    const [message] = t.webhookQueue.take();
    await env.DB.prepare("UPDATE users SET moving_to = 1 - coalesce(shard, 1) WHERE id = ?").bind(user.id).run();
    try {
      const waiting = await runWebhookBatch(t, [message]);
      expect(waiting.explicitAcks).toHaveLength(1);
      expect(consumer.received).toEqual([]);
      expect(takeDelayed(t)).toEqual([{ body: message, delaySeconds: 30 }]);
    } finally {
      await env.DB.prepare("UPDATE users SET moving_to = NULL WHERE id = ?").bind(user.id).run();
    }
    await runWebhookBatch(t, [message]);
    expect(consumer.received).toHaveLength(1);
  });

  it("retries a message whose handling crashed, after the attempt's claim has lapsed", async () => {
    const user = await createUser(t);
    const endpoint = await createEndpoint(t, user, { url: `${A}/crash` });
    const consumer = receiver(t, A);
    await ping(t, user, endpoint.id);
    const messages = t.webhookQueue.take();
    // D1 fails when the attempt is to be recorded (after the POST).
    const broken = (d1: D1Database): D1Database =>
      new Proxy(d1, {
        get(target, prop) {
          if (prop === "batch") return () => Promise.reject(new Error("D1 is down"));
          const v = Reflect.get(target, prop);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const start = Date.now();
    const crashed = await runWebhookBatch(t, messages, { deps: { wrapD1: broken, now: () => start } });
    expect(crashed.retryMessages).toHaveLength(1);
    expect(crashed.explicitAcks).toEqual([]);
    expect(crashed.retryDelays[0]).toBeGreaterThanOrEqual(60);
    expect(consumer.received).toHaveLength(1);
    // A delivery of it before the claim lapsed does nothing; the queue's retry, later, attempts again.
    await runWebhookBatch(t, messages, clockAt(start + 30 * SECOND).options);
    expect(consumer.received).toHaveLength(1);
    await runWebhookBatch(t, messages, clockAt(start + crashed.retryDelays[0]! * SECOND).options);
    expect(consumer.received).toHaveLength(2);
    expect(consumer.received[1]!.headers["webhook-id"]).toBe(consumer.received[0]!.headers["webhook-id"]);
    expect((await deliveries(t, user, endpoint.id))[0]).toMatchObject({ status: "delivered", attempt_count: 2 });
  });
});

describe("the hourly webhook upkeep (cron)", () => {
  const t = useTestContext();

  async function runCron(cronEnv: Env = t.env) {
    const ctx = createExecutionContext();
    const scheduled = worker.scheduled as ExportedHandlerScheduledHandler<Env>;
    await scheduled(createScheduledController({ cron: "0 * * * *", scheduledTime: Date.now() }), cronEnv, ctx);
    await waitOnExecutionContext(ctx);
  }

  it("sends again the deliveries whose message was lost, purges history older than 30 days, and forgets expired previous secrets", async () => {
    const user = await createUser(t);
    const endpoint = await createEndpoint(t, user, { url: `${A}/cron` });
    receiver(t, A);
    const db = await dbOf(user.id);
    // A lost message: the delivery is pending, 11 minutes past its time. Another is due in a minute (its message is on its way).
    const lost = await ping(t, user, endpoint.id);
    const onItsWay = await ping(t, user, endpoint.id);
    t.webhookQueue.take();
    await db.prepare("UPDATE webhook_deliveries SET next_attempt_at = ? WHERE event_id = ?").bind(Date.now() - 11 * 60_000, lost).run();
    await db.prepare("UPDATE webhook_deliveries SET next_attempt_at = ? WHERE event_id = ?").bind(Date.now() + 60_000, onItsWay).run();
    // An old delivered event with its attempt, 31 days ago.
    const old = await ping(t, user, endpoint.id);
    await drainWebhooks(t);
    const longAgo = Date.now() - 31 * DAY;
    await db.batch([
      db.prepare("UPDATE webhook_events SET created_at = ? WHERE id = ?").bind(longAgo, old),
      db.prepare("UPDATE webhook_deliveries SET created_at = ? WHERE event_id = ?").bind(longAgo, old),
      db.prepare("UPDATE webhook_attempts SET at = ? WHERE event_id = ?").bind(longAgo, old),
    ]);
    // A rotation 25 hours ago.
    expect((await t.request(`${ENDPOINTS}/${endpoint.id}/rotate-secret`, { method: "POST", token: user.token })).status).toBe(200);
    await db.prepare("UPDATE webhook_endpoints SET previous_secret_until = ? WHERE id = ?").bind(Date.now() - HOUR, endpoint.id).run();

    vi.spyOn(console, "log").mockImplementation(() => {});
    await runCron();
    vi.restoreAllMocks();

    expect(t.webhookQueue.take()).toEqual([{ type: "webhook_delivery", userId: user.id, endpointId: endpoint.id, eventId: lost }]);
    const count = async (table: string) => (await db.prepare(`SELECT count(*) AS n FROM ${table} WHERE event_id = ?`).bind(old).first<{ n: number }>())!.n;
    expect([await count("webhook_deliveries"), await count("webhook_attempts")]).toEqual([0, 0]);
    expect((await db.prepare("SELECT count(*) AS n FROM webhook_events WHERE id = ?").bind(old).first<{ n: number }>())!.n).toBe(0);
    expect((await deliveries(t, user, endpoint.id)).map((d) => d.event_id).sort()).toEqual([lost, onItsWay].sort());
    expect(await db.prepare("SELECT previous_secret_envelope, previous_secret_until FROM webhook_endpoints WHERE id = ?").bind(endpoint.id).first())
      .toEqual({ previous_secret_envelope: null, previous_secret_until: null });
    expect((await endpointView(t, user, endpoint.id)).previous_secret_expires_at).toBeNull();
  });
});
