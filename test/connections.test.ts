import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Keyring } from "../src/lib/crypto";
import { createUser, dbOf, expectProblem, useTestContext, type TestContext, type TestUser } from "./helpers";
import { drainQueue } from "./queue-helpers";

interface View {
  status: string;
  hevy_user: { id: string; name: string };
  webhook: { status: string; url: string | null };
  backfill: { state: string; pages_done: number; page_count: number | null; workouts_synced: number };
  last_sync_at: string | null;
  last_error: string | null;
  connected_at: string;
}

const CONN = "/api/v1/connections/hevy";

async function connect(t: TestContext, user: TestUser, apiKey: string) {
  return t.request(CONN, { method: "PUT", token: user.token, json: { api_key: apiKey } });
}

async function storedRow(userId: string) {
  return (await dbOf(userId)).prepare("SELECT * FROM hevy_connections WHERE user_id = ?").bind(userId).first<Record<string, unknown>>();
}

async function insertWorkout(userId: string, id: string) {
  await (await dbOf(userId)).prepare(
    "INSERT INTO hevy_workouts (user_id, id, title, start_time, end_time, hevy_updated_at, synced_at) VALUES (?, ?, 'Push', 1, 2, 3, 4)",
  )
    .bind(userId, id)
    .run();
}

const workoutCount = async (userId: string) =>
  (await (await dbOf(userId)).prepare("SELECT count(*) AS n FROM hevy_workouts WHERE user_id = ?").bind(userId).first<{ n: number }>())!.n;

describe("PUT /api/v1/connections/hevy", () => {
  const t = useTestContext();

  it("validates the key with Hevy, stores it encrypted, subscribes the webhook and queues the backfill", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount({ name: "Ada Lifts" });
    const res = await connect(t, user, account.apiKey);
    expect(res.status).toBe(202);
    const text = await res.text();
    expect(text).not.toContain(account.apiKey);
    const view = JSON.parse(text) as View;
    expect(view).toEqual({
      status: "active",
      hevy_user: { id: account.userId, name: "Ada Lifts" },
      webhook: { status: "subscribed", url: expect.stringMatching(/^https:\/\/vitaltrends\.test\/webhooks\/hevy\/[A-Za-z0-9_-]{43}$/) },
      backfill: { state: "queued", pages_done: 0, page_count: null, workouts_synced: 0 },
      skipped_workouts: 0,
      last_sync_at: null,
      last_error: null,
      connected_at: expect.any(String),
    });

    // Hevy was asked with the api-key header, and now holds our URL and a random bearer token.
    expect(t.hevy.requests[0]).toMatchObject({ method: "GET", path: "/v1/user/info", apiKey: account.apiKey });
    const sub = t.hevy.webhookSubscription(account.apiKey)!;
    expect(sub.url).toBe(view.webhook.url);
    expect(sub.authToken).toMatch(/^Bearer [A-Za-z0-9_-]{43}$/);

    // The key is stored only as an AES-GCM envelope that decrypts back to it.
    const row = (await storedRow(user.id))!;
    const envelope = row.api_key_envelope as string;
    expect(envelope).not.toContain(account.apiKey);
    const ring = await Keyring.load(env.KEY_ENCRYPTION_KEY);
    expect((await ring.decrypt(envelope, `hevy_api_key:${user.id}`)).plaintext).toBe(account.apiKey);
    expect(JSON.stringify(row)).not.toContain(account.apiKey);
    expect(JSON.stringify(row)).not.toContain(sub.authToken.slice(7));

    expect(t.queue.messages).toEqual([
      { type: "backfill", userId: user.id, runId: row.backfill_run_id, phase: "templates", page: 1 },
    ]);
  });

  it("shows the same view on GET and never the key", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    const put = (await (await connect(t, user, account.apiKey)).json()) as View;
    const res = await t.request(CONN, { token: user.token });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual(put);
    expect(text).not.toContain(account.apiKey);
  });

  it("refuses a key that is not a UUID without calling Hevy", async () => {
    const user = await createUser(t);
    const problem = await expectProblem(await connect(t, user, "not-a-uuid"), 400, "validation_failed");
    expect(problem.errors).toEqual([{ path: "api_key", message: expect.any(String) }]);
    expect(t.hevy.requests).toHaveLength(0);
  });

  it("answers malformed bodies with 400/415 and stores nothing", async () => {
    const user = await createUser(t);
    const bodies: Array<[RequestInit, number, string]> = [
      [{ body: "{}", headers: { "content-type": "application/json" } }, 400, "validation_failed"],
      [{ body: '{"api_key": 42}', headers: { "content-type": "application/json" } }, 400, "validation_failed"],
      [{ body: `{"api_key": "${crypto.randomUUID()}", "admin": true}`, headers: { "content-type": "application/json" } }, 400, "validation_failed"],
      [{ body: "[1,2]", headers: { "content-type": "application/json" } }, 400, "validation_failed"],
      [{ body: "{api_key:", headers: { "content-type": "application/json" } }, 400, "invalid_json"],
      [{ body: "", headers: { "content-type": "application/json" } }, 400, "invalid_json"],
      [{ body: "api_key=x", headers: { "content-type": "text/plain" } }, 415, "unsupported_media_type"],
      [{}, 415, "unsupported_media_type"],
    ];
    for (const [init, status, code] of bodies) {
      await expectProblem(await t.request(CONN, { method: "PUT", token: user.token, ...init }), status, code);
    }
    expect(t.hevy.requests).toHaveLength(0);
    expect(await storedRow(user.id)).toBeNull();
  });

  it("answers 422 hevy_key_invalid to a key Hevy rejects, storing nothing", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    t.hevy.revokeKey(account.apiKey);
    await expectProblem(await connect(t, user, account.apiKey), 422, "hevy_key_invalid");
    await expectProblem(await connect(t, user, crypto.randomUUID()), 422, "hevy_key_invalid");
    expect(await storedRow(user.id)).toBeNull();
    expect(t.queue.messages).toEqual([]);
    await expectProblem(await t.request(CONN, { token: user.token }), 404, "not_connected");
  });

  for (const fault of [
    { status: 500 },
    { status: 503 },
    { status: 429, retryAfter: "5" },
    { kind: "network" as const },
    { status: 403 },
  ]) {
    it(`answers 502 hevy_unavailable when Hevy's user info fails with ${JSON.stringify(fault)}`, async () => {
      const user = await createUser(t);
      const account = t.hevy.createAccount();
      t.hevy.injectFault({ ...fault, match: "/v1/user/info" });
      await expectProblem(await connect(t, user, account.apiKey), 502, "hevy_unavailable");
      expect(await storedRow(user.id)).toBeNull();
      expect(t.queue.messages).toEqual([]);
    });
  }

  it("marks the webhook unavailable when Hevy answers 4xx to the subscription", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    t.hevy.setWebhookSupport(account.apiKey, "not_found");
    const res = await connect(t, user, account.apiKey);
    expect(res.status).toBe(202);
    const view = (await res.json()) as View;
    expect(view.status).toBe("active");
    expect(view.webhook).toEqual({ status: "unavailable", url: null });
    expect(t.queue.messages).toHaveLength(1);
  });

  it("marks the webhook failed (kept for a retry) when Hevy answers 5xx to the subscription", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    t.hevy.setWebhookSupport(account.apiKey, "server_error");
    const view = (await (await connect(t, user, account.apiKey)).json()) as View;
    expect(view.webhook.status).toBe("failed");
    expect(view.webhook.url).toMatch(/\/webhooks\/hevy\//);
  });

  it("keeps an existing connection and its key byte-for-byte when a re-PUT has an invalid key", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    await connect(t, user, account.apiKey);
    const before = await storedRow(user.id);
    await expectProblem(await connect(t, user, crypto.randomUUID()), 422, "hevy_key_invalid");
    t.hevy.injectFault({ status: 500, match: "/v1/user/info" });
    await expectProblem(await connect(t, user, account.apiKey), 502, "hevy_unavailable");
    expect(await storedRow(user.id)).toEqual(before);
  });

  it("reactivates a needs_reconnect connection with a new key, keeping workouts and following with a delta when the backfill was done", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    await connect(t, user, account.apiKey);
    await insertWorkout(user.id, "w-1");
    // A cursor an hour old: inside the span the events feed is trusted for (EVENTS_TRUSTED_MS).
    const cursor = Date.now() - 3_600_000;
    await (await dbOf(user.id)).prepare(
      "UPDATE hevy_connections SET status = 'needs_reconnect', backfill_state = 'done', backfill_pages_done = 3, backfill_page_count = 3, backfill_workouts_synced = 25, events_cursor = ?, last_error = 'Hevy rejected the API key' WHERE user_id = ?",
    )
      .bind(cursor, user.id)
      .run();
    const oldUrl = ((await (await t.request(CONN, { token: user.token })).json()) as View).webhook.url!;
    t.queue.take();

    const res = await connect(t, user, account.apiKey);
    expect(res.status).toBe(202);
    const view = (await res.json()) as View;
    expect(view.status).toBe("active");
    expect(view.last_error).toBeNull();
    expect(view.backfill).toEqual({ state: "done", pages_done: 3, page_count: 3, workouts_synced: 25 });
    expect(view.webhook.url).not.toBe(oldUrl);
    expect(await workoutCount(user.id)).toBe(1);
    expect((await storedRow(user.id))!.events_cursor).toBe(cursor);
    expect(t.queue.messages).toEqual([{ type: "delta", userId: user.id, reason: "reconnect" }]);
  });

  it("resumes an unfinished backfill on re-PUT under a new run id", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    await connect(t, user, account.apiKey);
    const firstRun = (await storedRow(user.id))!.backfill_run_id;
    await (await dbOf(user.id)).prepare(
      "UPDATE hevy_connections SET status = 'needs_reconnect', backfill_state = 'running', backfill_pages_done = 4, backfill_page_count = 9 WHERE user_id = ?",
    )
      .bind(user.id)
      .run();
    t.queue.take();

    const view = (await (await connect(t, user, account.apiKey)).json()) as View;
    expect(view.backfill).toMatchObject({ state: "queued", pages_done: 4, page_count: 9 });
    const row = (await storedRow(user.id))!;
    expect(row.backfill_run_id).not.toBe(firstRun);
    expect(t.queue.messages).toEqual([{ type: "backfill", userId: user.id, runId: row.backfill_run_id, phase: "workouts", page: 5 }]);
  });

  it("starts over, dropping the old rows, when the key belongs to a different Hevy account", async () => {
    const user = await createUser(t);
    await connect(t, user, t.hevy.createAccount().apiKey);
    await insertWorkout(user.id, "w-old");
    const other = t.hevy.createAccount({ name: "Other" });
    const view = (await (await connect(t, user, other.apiKey)).json()) as View;
    expect(view.hevy_user.name).toBe("Other");
    expect(view.backfill).toEqual({ state: "queued", pages_done: 0, page_count: null, workouts_synced: 0 });
    expect(await workoutCount(user.id)).toBe(0);
  });
});

describe("connection routes need a connection, and only ever see their owner's", () => {
  const t = useTestContext();

  it("answers 404 not_connected to GET, DELETE, sync and webhook-secret without a connection", async () => {
    const user = await createUser(t);
    await expectProblem(await t.request(CONN, { token: user.token }), 404, "not_connected");
    await expectProblem(await t.request(CONN, { method: "DELETE", token: user.token }), 404, "not_connected");
    await expectProblem(await t.request(`${CONN}/sync`, { method: "POST", token: user.token }), 404, "not_connected");
    await expectProblem(await t.request(`${CONN}/webhook-secret`, { method: "POST", token: user.token }), 404, "not_connected");
  });

  it("never lets one user see or change another user's connection", async () => {
    const alice = await createUser(t);
    const mallory = await createUser(t);
    const account = t.hevy.createAccount();
    await connect(t, alice, account.apiKey);
    const before = await storedRow(alice.id);

    await expectProblem(await t.request(CONN, { token: mallory.token }), 404, "not_connected");
    await expectProblem(await t.request(`${CONN}?purge=true`, { method: "DELETE", token: mallory.token }), 404, "not_connected");
    await expectProblem(await t.request(`${CONN}/webhook-secret`, { method: "POST", token: mallory.token }), 404, "not_connected");
    await expectProblem(await t.request(`${CONN}/sync`, { method: "POST", token: mallory.token }), 404, "not_connected");
    expect(await storedRow(alice.id)).toEqual(before);
  });
});

describe("webhook secret rotation, sync and disconnect", () => {
  const t = useTestContext();

  async function connected() {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    const view = (await (await connect(t, user, account.apiKey)).json()) as View;
    t.queue.take();
    return { user, account, view };
  }

  const deliver = (url: string, authorization: string, body: unknown) =>
    t.request(new URL(url).pathname, { method: "POST", headers: { authorization }, json: body });

  it("rotation re-subscribes with a new URL and the old one answers 404 at once", async () => {
    const { user, account, view } = await connected();
    const oldAuth = t.hevy.webhookSubscription(account.apiKey)!.authToken;
    const res = await t.request(`${CONN}/webhook-secret`, { method: "POST", token: user.token });
    expect(res.status).toBe(200);
    const rotated = (await res.json()) as View;
    expect(rotated.webhook.status).toBe("subscribed");
    expect(rotated.webhook.url).not.toBe(view.webhook.url);
    const sub = t.hevy.webhookSubscription(account.apiKey)!;
    expect(sub.url).toBe(rotated.webhook.url);

    const body = { id: crypto.randomUUID(), payload: { workoutId: crypto.randomUUID() } };
    await expectProblem(await deliver(view.webhook.url!, oldAuth, body), 404, "not_found");
    await expectProblem(await deliver(view.webhook.url!, sub.authToken, body), 404, "not_found");
    const ok = await deliver(sub.url, sub.authToken, body);
    expect(ok.status).toBe(200);
    expect(t.queue.messages).toEqual([{ type: "webhook_workout", userId: user.id, workoutId: body.payload.workoutId, deliveryId: body.id }]);
  });

  it("sync queues a delta once the backfill is done, and resumes a failed or stalled backfill otherwise", async () => {
    const { user } = await connected();
    // Just queued: already on its way, nothing more to queue.
    expect((await t.request(`${CONN}/sync`, { method: "POST", token: user.token })).status).toBe(202);
    expect(t.queue.take()).toEqual([]);

    await (await dbOf(user.id)).prepare("UPDATE hevy_connections SET backfill_state = 'failed' WHERE user_id = ?").bind(user.id).run();
    const res = await t.request(`${CONN}/sync`, { method: "POST", token: user.token });
    expect(res.status).toBe(202);
    const row = (await storedRow(user.id))!;
    expect(t.queue.take()).toEqual([{ type: "backfill", userId: user.id, runId: row.backfill_run_id, phase: "templates", page: 1 }]);

    // Running but silent for 11 minutes: a lost message; resumes under a new run id.
    await (await dbOf(user.id)).prepare("UPDATE hevy_connections SET backfill_state = 'running', backfill_pages_done = 2, backfill_page_count = 5, updated_at = ? WHERE user_id = ?")
      .bind(Date.now() - 11 * 60_000, user.id)
      .run();
    expect((await t.request(`${CONN}/sync`, { method: "POST", token: user.token })).status).toBe(202);
    const resumed = (await storedRow(user.id))!;
    expect(resumed.backfill_run_id).not.toBe(row.backfill_run_id);
    expect(t.queue.take()).toEqual([{ type: "backfill", userId: user.id, runId: resumed.backfill_run_id, phase: "workouts", page: 3 }]);

    await (await dbOf(user.id)).prepare("UPDATE hevy_connections SET backfill_state = 'done' WHERE user_id = ?").bind(user.id).run();
    expect((await t.request(`${CONN}/sync`, { method: "POST", token: user.token })).status).toBe(202);
    expect(t.queue.take()).toEqual([{ type: "delta", userId: user.id, reason: "manual" }]);
  });

  it("sync on a connection that needs a new key answers 409", async () => {
    const { user } = await connected();
    await (await dbOf(user.id)).prepare("UPDATE hevy_connections SET status = 'needs_reconnect' WHERE user_id = ?").bind(user.id).run();
    await expectProblem(await t.request(`${CONN}/sync`, { method: "POST", token: user.token }), 409, "needs_reconnect");
    expect(t.queue.messages).toEqual([]);
  });

  it("DELETE unsubscribes, forgets the key and keeps the workouts; the webhook URL then answers 404", async () => {
    const { user, account, view } = await connected();
    await insertWorkout(user.id, "w-1");
    const sub = t.hevy.webhookSubscription(account.apiKey)!;
    const res = await t.request(CONN, { method: "DELETE", token: user.token });
    expect(res.status).toBe(204);
    expectKeyForgotten(await storedRow(user.id));
    expect(t.hevy.webhookSubscription(account.apiKey)).toBeNull();
    expect(await workoutCount(user.id)).toBe(1);
    await expectProblem(await deliver(view.webhook.url!, sub.authToken, { id: "d", payload: { workoutId: "w" } }), 404, "not_found");
    await expectProblem(await t.request(CONN, { token: user.token }), 404, "not_connected");
  });

  it("DELETE ?purge=true also deletes every Hevy row of the user, and only theirs", async () => {
    const { user } = await connected();
    const other = await createUser(t);
    await connect(t, other, t.hevy.createAccount().apiKey);
    await insertWorkout(user.id, "w-1");
    await insertWorkout(other.id, "w-1");
    // A finished CSV export of each user: a copy of the same data, which a purge must remove too.
    const exported: Record<string, string> = {};
    for (const u of [user, other]) {
      const res = await t.request("/api/v1/exports/hevy-csv", { method: "POST", token: u.token, json: {} });
      exported[u.id] = ((await res.json()) as { id: string }).id;
    }
    await drainQueue(t);
    const downloadable = (u: TestUser) => t.request(`/api/v1/exports/${exported[u.id]}/download`, { token: u.token }).then((r) => r.status);
    expect(await downloadable(user)).toBe(200);

    expect((await t.request(`${CONN}?purge=true`, { method: "DELETE", token: user.token })).status).toBe(204);
    expect(await workoutCount(user.id)).toBe(0);
    expect(await workoutCount(other.id)).toBe(1);
    expect(await downloadable(user)).toBe(404);
    expect(await downloadable(other)).toBe(200);
    expect((await env.EXPORTS.list({ include: [] })).objects.map((o) => o.key).filter((k) => k.includes(user.id))).toEqual([]);
    expect(await storedRow(other.id)).not.toBeNull();
  });

  it("DELETE succeeds when Hevy is down (unsubscribe is best effort) and rejects a bad purge value", async () => {
    const { user } = await connected();
    await expectProblem(await t.request(`${CONN}?purge=yes`, { method: "DELETE", token: user.token }), 400, "validation_failed");
    t.hevy.injectFault({ status: 500, match: "/v1/webhook-subscription" });
    expect((await t.request(CONN, { method: "DELETE", token: user.token })).status).toBe(204);
    expectKeyForgotten(await storedRow(user.id));
  });
});

/**
 * A disconnect without purge forgets the key and the webhook; the row stays only with what a
 * re-connect needs to reconcile (the Hevy account and the events cursor), SPEC §11.
 */
function expectKeyForgotten(row: Record<string, unknown> | null) {
  expect(row).toMatchObject({
    status: "disconnected", api_key_envelope: null, key_epoch: null,
    webhook_secret_digest: null, webhook_secret_envelope: null, webhook_auth_envelope: null,
  });
}

describe("POST /webhooks/hevy/{secret}", () => {
  const t = useTestContext();

  async function subscribed() {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    await connect(t, user, account.apiKey);
    t.queue.take();
    return { user, account, sub: t.hevy.webhookSubscription(account.apiKey)! };
  }

  const post = (path: string, init: RequestInit & { json?: unknown }) => t.request(path, { method: "POST", ...init });

  it("accepts Hevy's own delivery and queues the workout fetch without calling Hevy", async () => {
    const { user, account } = await subscribed();
    const workoutId = crypto.randomUUID();
    const delivery = t.hevy.webhookDelivery(account.apiKey, workoutId)!;
    const before = t.hevy.requests.length;
    const url = new URL(delivery.url);
    const res = await post(url.pathname, { headers: delivery.headers, body: await delivery.text() });
    expect(res.status).toBe(200);
    expect(t.hevy.requests.length).toBe(before);
    expect(t.queue.messages).toEqual([{ type: "webhook_workout", userId: user.id, workoutId, deliveryId: expect.any(String) }]);
  });

  it("checks the secret (404), then Authorization (401), then the body (400)", async () => {
    const { sub } = await subscribed();
    const path = new URL(sub.url).pathname;
    const good = { id: "delivery-1", payload: { workoutId: crypto.randomUUID() } };
    await expectProblem(await post(`/webhooks/hevy/${"A".repeat(43)}`, { headers: { authorization: sub.authToken }, json: good }), 404, "not_found");
    await expectProblem(await post("/webhooks/hevy/short", { headers: { authorization: sub.authToken }, json: good }), 404, "not_found");
    await expectProblem(await post(path, { json: { bad: true } }), 401, "unauthorized");
    await expectProblem(await post(path, { headers: { authorization: `${sub.authToken}x` }, json: good }), 401, "unauthorized");
    await expectProblem(await post(path, { headers: { authorization: sub.authToken.toLowerCase() }, json: good }), 401, "unauthorized");
    await expectProblem(await post(path, { headers: { authorization: sub.authToken }, json: { id: "x" } }), 400, "validation_failed");
    await expectProblem(await post(path, { headers: { authorization: sub.authToken }, json: { id: "x", payload: { workoutId: 5 } } }), 400, "validation_failed");
    await expectProblem(await post(path, { headers: { authorization: sub.authToken }, body: "not json" }), 400, "invalid_json");
    await expectProblem(
      await post(path, { headers: { authorization: sub.authToken }, body: JSON.stringify({ ...good, pad: "x".repeat(70_000) }) }),
      413,
      "payload_too_large",
    );
    expect(t.queue.messages).toEqual([]);
  });

  it("accepts and ignores deliveries for a connection that needs a new key", async () => {
    const { user, sub } = await subscribed();
    await (await dbOf(user.id)).prepare("UPDATE hevy_connections SET status = 'needs_reconnect' WHERE user_id = ?").bind(user.id).run();
    const res = await post(new URL(sub.url).pathname, {
      headers: { authorization: sub.authToken },
      json: { id: "d", payload: { workoutId: crypto.randomUUID() } },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ignored" });
    expect(t.queue.messages).toEqual([]);
  });
});
