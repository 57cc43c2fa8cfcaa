import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createDeps, dataDatabases, type Deps, forShard } from "../src/deps";
import type { Env } from "../src/env";
import worker from "../src/index";
import { type KeyRotationRun, reencryptEnvelopes } from "../src/services/key-rotation";
import { logIn } from "./hardening-fixture";
import { ADMIN_TOKEN, callWorker, createUser, dataDbs, dbOf, expectProblem, shardOf, type TestContext, type TestUser, useTestContext } from "./helpers";
import { drainQueue, fastBackfill, recordingRetryPolicy } from "./queue-helpers";
import { CONN, putWorkout, sendWebhook } from "./sync-helpers";
import { createEndpoint, deliveries, ENDPOINTS, ping, receiver, runWebhookBatch, signaturesOf, verifyWith } from "./webhook-helpers";

// After a KEY_ENCRYPTION_KEY rotation (new key current, old one in KEY_ENCRYPTION_KEYS_PREVIOUS)
// the cron re-encrypts every envelope of every connection, whatever its status, and
// GET /admin/v1/key-rotation counts what is left; at 0 the old key can be retired. A key retired
// too early costs the affected users their webhook URL and key, never a 500.

const b64ToBytes = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
const kidOf = async (keyB64: string) => hex(await crypto.subtle.digest("SHA-256", b64ToBytes(keyB64))).slice(0, 16);
const newKey = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
const KEY_A = env.KEY_ENCRYPTION_KEY;

/** Opens an envelope with WebCrypto directly, not with the app's keyring. */
async function open(envelope: string, keyB64: string, aad: string): Promise<string> {
  const [, , iv, ct] = envelope.split(":");
  const fromB64Url = (s: string) => b64ToBytes(s.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(s.length / 4) * 4, "="));
  const key = await crypto.subtle.importKey("raw", b64ToBytes(keyB64), "AES-GCM", false, ["decrypt"]);
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromB64Url(iv!), additionalData: new TextEncoder().encode(aad) }, key, fromB64Url(ct!));
  return new TextDecoder().decode(plain);
}

interface Row {
  user_id: string;
  status: string;
  api_key_envelope: string | null;
  webhook_secret_envelope: string | null;
  webhook_auth_envelope: string | null;
}
const rowOf = async (userId: string) =>
  (await dbOf(userId)).prepare("SELECT user_id, status, api_key_envelope, webhook_secret_envelope, webhook_auth_envelope FROM hevy_connections WHERE user_id = ?")
    .bind(userId)
    .first<Row>();
const envelopesOf = (r: Row | null) => (r ? [r.api_key_envelope, r.webhook_secret_envelope, r.webhook_auth_envelope].filter((e): e is string => e !== null) : []);

/** The same test context (fake Hevy, recording queue) with other encryption keys in the environment. */
const withKeys = (t: TestContext, current: string, previous?: string): TestContext => {
  const keyed = { ...t.env, KEY_ENCRYPTION_KEY: current, KEY_ENCRYPTION_KEYS_PREVIOUS: previous } as Env;
  return { ...t, env: keyed, request: (path, init) => callWorker(keyed, path, init) };
};

interface Rotation {
  current_kid: string;
  envelopes_under_old_keys: number;
  unreadable_envelopes: number;
}
async function rotationStatus(t: TestContext): Promise<Rotation> {
  const res = await t.request("/admin/v1/key-rotation", { token: ADMIN_TOKEN });
  expect(res.status).toBe(200);
  return res.json();
}


/**
 * One run of the job as the hourly cron makes it: once in every database holding users' rows (the
 * directory and each shard, SPEC §12), each run bounded by `opts.limit`; the figures summed.
 */
async function reencryptEverywhere(deps: Deps, opts?: { limit: number }): Promise<KeyRotationRun> {
  const total: KeyRotationRun = { reencrypted: 0, remaining: 0, unreadable: 0 };
  for (const { shard } of dataDatabases(deps)) {
    const run = await reencryptEnvelopes(forShard(deps, shard), opts);
    total.reencrypted += run.reencrypted;
    total.remaining += run.remaining;
    total.unreadable += run.unreadable;
  }
  return total;
}

async function runCron(t: TestContext) {
  const ctx = createExecutionContext();
  const scheduled = worker.scheduled as ExportedHandlerScheduledHandler<Env>;
  await scheduled(createScheduledController({ cron: "0 * * * *", scheduledTime: Date.now() }), t.env, ctx);
  await waitOnExecutionContext(ctx);
}

const created: string[] = [];

/** A user (new, or the one given) connected the real way (PUT, backfill) under the context's current key. */
async function connect(t: TestContext, opts: { webhook?: "supported" | "not_found"; user?: TestUser } = {}) {
  const user = opts.user ?? (await createUser(t));
  created.push(user.id);
  const account = t.hevy.createAccount();
  t.hevy.generateHistory(account.apiKey, 2, { seed: 7, end: new Date(Date.now() - 86_400_000) });
  if (opts.webhook) t.hevy.setWebhookSupport(account.apiKey, opts.webhook);
  const res = await t.request(CONN, { method: "PUT", token: user.token, json: { api_key: account.apiKey } });
  expect(res.status).toBe(202);
  await drainQueue(t, { backfill: fastBackfill() });
  return { user, apiKey: account.apiKey };
}

/** Hevy revokes the key; the next sync gets a 401 and the connection needs a new key. */
async function makeNeedsReconnect(t: TestContext, c: { user: TestUser; apiKey: string }) {
  t.hevy.revokeKey(c.apiKey);
  expect((await t.request(`${CONN}/sync`, { method: "POST", token: c.user.token })).status).toBe(202);
  await drainQueue(t, { delta: { concurrency: 2, retry: recordingRetryPolicy() } });
  expect((await rowOf(c.user.id))?.status).toBe("needs_reconnect");
}

async function viewOf(t: TestContext, user: TestUser) {
  const res = await t.request(CONN, { token: user.token });
  expect(res.status).toBe(200);
  return (await res.json()) as { status: string; webhook: { status: string; url: string | null } };
}

describe("KEY_ENCRYPTION_KEY rotation: re-encryption job", () => {
  const t = useTestContext();
  afterEach(async () => {
    vi.restoreAllMocks();
    // Storage is shared by the tests of this file: the counts of one test must not see another's rows.
    const ids = JSON.stringify(created.splice(0));
    for (const db of dataDbs()) {
      for (const table of ["hevy_connections", "webhook_endpoints"]) await db.prepare(`DELETE FROM ${table} WHERE user_id IN (SELECT value FROM json_each(?))`).bind(ids).run();
    }
  });

  it("re-encrypts every envelope of every status in bounded steps, reports 0 left, and then the old key can be retired", async () => {
    const active = await connect(t);
    const stuck = await connect(t);
    await makeNeedsReconnect(t, stuck);
    const noWebhook = await connect(t, { webhook: "not_found" });
    // Disconnected (no purge): whatever its row keeps is re-encrypted too, and it must not trip the job.
    const gone = await connect(t);
    expect((await t.request(CONN, { method: "DELETE", token: gone.user.token })).status).toBe(204);
    const users = [active, stuck, noWebhook];
    const activeUrl = t.hevy.webhookSubscription(active.apiKey)!.url;
    const stuckUrl = t.hevy.webhookSubscription(stuck.apiKey)!.url;
    const total = (await Promise.all([...users, gone].map((c) => rowOf(c.user.id)))).flatMap(envelopesOf).length;
    expect(total).toBe(7 + envelopesOf(await rowOf(gone.user.id)).length); // 3 + 3 + the key alone (no webhook) + what a disconnected row keeps
    const rowsToDo = users.length + (envelopesOf(await rowOf(gone.user.id)).length > 0 ? 1 : 0);

    const KEY_B = newKey();
    const rotated = withKeys(t, KEY_B, KEY_A);
    expect(await rotationStatus(rotated)).toEqual({ current_kid: await kidOf(KEY_B), envelopes_under_old_keys: total, unreadable_envelopes: 0 });

    // One connection per run and database: the count falls at every step and reaches 0 within one step per row.
    const logs: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void logs.push(String(line)));
    const deps = await createDeps(rotated.env);
    let left = total;
    for (let step = 0; left > 0; step++) {
      expect(step).toBeLessThan(rowsToDo);
      const run = await reencryptEverywhere(deps, { limit: 1 });
      expect(run.reencrypted).toBeGreaterThan(0);
      expect(run.remaining).toBe(left - run.reencrypted);
      expect(run.unreadable).toBe(0);
      left = run.remaining;
    }
    expect(await rotationStatus(rotated)).toMatchObject({ envelopes_under_old_keys: 0, unreadable_envelopes: 0 });
    const lines = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "key rotation");
    expect(lines.length).toBe(rowsToDo);
    expect(lines.at(-1)).toMatchObject({ level: "info", remaining: 0, unreadable: 0, current_kid: await kidOf(KEY_B) });
    for (const secret of [...users.map((c) => c.apiKey), activeUrl.split("/").pop()!, KEY_A, KEY_B]) {
      expect(logs.join("\n")).not.toContain(secret);
    }
    // Nothing left to do: a further run changes nothing and says nothing.
    expect(await reencryptEverywhere(deps)).toEqual({ reencrypted: 0, remaining: 0, unreadable: 0 });
    expect(logs.filter((l) => l.includes("key rotation")).length).toBe(rowsToDo);
    vi.restoreAllMocks();

    // Every envelope is now under B and opens with B to what it held.
    const kidB = await kidOf(KEY_B);
    for (const c of users) {
      const row = (await rowOf(c.user.id))!;
      for (const e of envelopesOf(row)) expect(e.startsWith(`v1:${kidB}:`)).toBe(true);
      expect(await open(row.api_key_envelope!, KEY_B, `hevy_api_key:${c.user.id}`)).toBe(c.apiKey);
    }
    // The job leaves the status alone: it only re-encrypts.
    expect((await rowOf(stuck.user.id))?.status).toBe("needs_reconnect");

    // A retired: nothing needs it any more.
    const retired = withKeys(t, KEY_B);
    expect(await rotationStatus(retired)).toMatchObject({ envelopes_under_old_keys: 0, unreadable_envelopes: 0 });
    expect((await viewOf(retired, active.user)).webhook.url).toBe(activeUrl);
    expect(await viewOf(retired, stuck.user)).toMatchObject({ status: "needs_reconnect", webhook: { url: stuckUrl } });
    expect((await viewOf(retired, noWebhook.user)).webhook).toEqual({ status: "unavailable", url: null });
    for (const c of users) {
      const session = await logIn(retired, c.user.token);
      for (const page of ["/hevy", "/connections/hevy", "/connections/hevy/status"]) {
        expect((await retired.request(page, { headers: { cookie: session.cookie } })).status).toBe(200);
      }
    }

    // Webhook deliveries: queued for the active connection, accepted and ignored for the one needing a key.
    const added = putWorkout(t, active.apiKey, { title: "After retirement" });
    const delivery = await sendWebhook(retired, active.apiKey, added.id);
    expect(delivery.status).toBe(200);
    expect(await delivery.json()).toEqual({ status: "queued" });
    const ignored = await sendWebhook(retired, stuck.apiKey, putWorkout(t, stuck.apiKey).id);
    expect(await ignored.json()).toEqual({ status: "ignored" });
    t.queue.take();

    // A manual sync reads the key under B and stores Hevy's change.
    const before = t.hevy.requests.length;
    expect((await retired.request(`${CONN}/sync`, { method: "POST", token: active.user.token })).status).toBe(202);
    await drainQueue(retired, { delta: { concurrency: 2, retry: recordingRetryPolicy() } });
    const calls = t.hevy.requests.slice(before);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((r) => r.apiKey === active.apiKey && r.status === 200)).toBe(true);
    const stored = await (await dbOf(active.user.id)).prepare("SELECT title FROM hevy_workouts WHERE user_id = ? AND id = ?").bind(active.user.id, added.id).first<{ title: string }>();
    expect(stored?.title).toBe("After retirement");
    await expectProblem(await retired.request(`${CONN}/sync`, { method: "POST", token: stuck.user.token }), 409, "needs_reconnect");
    expect((await retired.request(`${CONN}/webhook-secret`, { method: "POST", token: active.user.token })).status).toBe(200);
  });

  it("GET /admin/v1/key-rotation needs the admin token", async () => {
    await expectProblem(await t.request("/admin/v1/key-rotation"), 401, "unauthorized");
    const user = await createUser(t);
    await expectProblem(await t.request("/admin/v1/key-rotation", { token: user.token }), 401, "unauthorized");
    expect(await rotationStatus(t)).toEqual({ current_kid: await kidOf(KEY_A), envelopes_under_old_keys: 0, unreadable_envelopes: 0 });
  });

  it("runs in the hourly cron, even when another cron step fails", async () => {
    const a = await connect(t);
    const b = await connect(t);
    await makeNeedsReconnect(t, b);
    const KEY_B = newKey();
    const rotated = withKeys(t, KEY_B, KEY_A);
    expect((await rotationStatus(rotated)).envelopes_under_old_keys).toBe(6);

    // The fan-out cannot send: the re-encryption still runs, and the failure is logged and reported.
    const down = { ...rotated, env: { ...rotated.env, SYNC_QUEUE: { send: () => Promise.reject(new Error("queue down")), sendBatch: () => Promise.reject(new Error("queue down")) } } as unknown as Env };
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void errors.push(String(line)));
    vi.spyOn(console, "log").mockImplementation(() => {});
    await expect(runCron(down)).rejects.toThrow("queue down");
    expect(errors.some((l) => l.includes("cron step failed") && l.includes("fanOutDeltas"))).toBe(true);
    vi.restoreAllMocks();

    expect(await rotationStatus(rotated)).toMatchObject({ envelopes_under_old_keys: 0, unreadable_envelopes: 0 });
    const kidB = await kidOf(KEY_B);
    for (const c of [a, b]) for (const e of envelopesOf(await rowOf(c.user.id))) expect(e.startsWith(`v1:${kidB}:`)).toBe(true);
    // A healthy run afterwards has nothing left to do and does not fail.
    await runCron(rotated);
  });

  it("a row written meanwhile (re-connect) is not overwritten with the envelopes read before it", async () => {
    const c = await connect(t);
    const KEY_B = newKey();
    const rotated = withKeys(t, KEY_B, KEY_A);
    // The job where the user's rows are (their shard, SPEC §12), as the cron runs it there.
    const deps = forShard(await createDeps(rotated.env), await shardOf(c.user.id));
    // The job reads the row, then the user pastes a new key before the job writes.
    const fresh = t.hevy.issueKey(c.apiKey);
    const realBatch = deps.db.batch.bind(deps.db);
    vi.spyOn(deps.db, "batch").mockImplementation(async (writes) => {
      expect((await rotated.request(CONN, { method: "PUT", token: c.user.token, json: { api_key: fresh } })).status).toBe(202);
      return realBatch(writes);
    });
    vi.spyOn(console, "log").mockImplementation(() => {});
    const run = await reencryptEnvelopes(deps);
    vi.restoreAllMocks();
    expect(run).toEqual({ reencrypted: 0, remaining: 0, unreadable: 0 });
    const row = (await rowOf(c.user.id))!;
    expect(await open(row.api_key_envelope!, KEY_B, `hevy_api_key:${c.user.id}`)).toBe(fresh);
    t.queue.take();
  });

  it("with the old key retired too early: no 500 anywhere, the envelopes are counted unreadable and do not block the others", async () => {
    const lostEarly = await connect(t);
    const lostUrl = t.hevy.webhookSubscription(lostEarly.apiKey)!.url;
    const lostAuth = t.hevy.webhookSubscription(lostEarly.apiKey)!.authToken;
    // Another connection made under key C, which is still in the keyring as a previous key, in the
    // same database (SPEC §12: users go to the emptiest shard, so the next free one may be elsewhere).
    const KEY_C = newKey();
    let neighbour = await createUser(t);
    for (let tries = 1; (await shardOf(neighbour.id)) !== (await shardOf(lostEarly.user.id)); tries++) {
      expect(tries).toBeLessThan(4);
      neighbour = await createUser(t);
    }
    const underC = await connect(withKeys(t, KEY_C), { user: neighbour });
    const KEY_B = newKey();
    const lost = withKeys(t, KEY_B, KEY_C); // A is gone.

    expect(await rotationStatus(lost)).toEqual({ current_kid: await kidOf(KEY_B), envelopes_under_old_keys: 3, unreadable_envelopes: 3 });
    // Whatever the order the rows come in, the unreadable row never takes the place of the readable one.
    const deps = await createDeps(lost.env);
    const logs: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void logs.push(String(line)));
    const first = await reencryptEverywhere(deps, { limit: 1 });
    expect(first).toEqual({ reencrypted: 3, remaining: 0, unreadable: 3 });
    expect(await reencryptEverywhere(deps, { limit: 1 })).toEqual({ reencrypted: 0, remaining: 0, unreadable: 3 });
    expect(logs.map((l) => JSON.parse(l)).filter((l) => l.msg === "key rotation").at(-1)).toMatchObject({ reencrypted: 0, remaining: 0, unreadable: 3 });
    vi.restoreAllMocks();
    await runCron(lost); // does not throw
    expect(await rotationStatus(lost)).toMatchObject({ envelopes_under_old_keys: 0, unreadable_envelopes: 3 });
    expect((await viewOf(lost, underC.user)).webhook.url).toBe(t.hevy.webhookSubscription(underC.apiKey)!.url);

    // The view and the pages answer, without the URL nobody can decrypt.
    expect(await viewOf(lost, lostEarly.user)).toMatchObject({ status: "active", webhook: { status: "subscribed", url: null } });
    const session = await logIn(lost, lostEarly.user.token);
    for (const page of ["/hevy", "/connections/hevy", "/connections/hevy/status"]) {
      expect((await lost.request(page, { headers: { cookie: session.cookie } })).status).toBe(200);
    }

    // A delivery to the old URL is a webhook we no longer know: 404, and a warning naming only the user.
    t.queue.take(); // the cron's deltas
    const warnings: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: unknown) => void warnings.push(String(line)));
    const delivery = await lost.request(new URL(lostUrl).pathname, {
      method: "POST",
      headers: { authorization: lostAuth },
      json: { id: crypto.randomUUID(), payload: { workoutId: crypto.randomUUID() } },
    });
    await expectProblem(delivery, 404, "not_found");
    expect(warnings.length).toBe(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: "warn", user_id: lostEarly.user.id });
    for (const secret of [lostUrl.split("/").pop()!, lostAuth, lostEarly.apiKey]) expect(warnings[0]).not.toContain(secret);
    vi.restoreAllMocks();
    expect(t.queue.take()).toEqual([]);

    // Rotating the webhook secret needs the key: the user is asked to paste it again, and nothing is called.
    const before = t.hevy.requests.length;
    const problem = await expectProblem(await lost.request(`${CONN}/webhook-secret`, { method: "POST", token: lostEarly.user.token }), 409, "key_unreadable");
    expect(problem.detail).toMatch(/paste your hevy api key again/i);
    // Disconnecting skips the best-effort unsubscribe it cannot make.
    expect((await lost.request(CONN, { method: "DELETE", token: lostEarly.user.token })).status).toBe(204);
    expect(t.hevy.requests.slice(before)).toEqual([]);
    expect(await rotationStatus(lost)).toMatchObject({ unreadable_envelopes: envelopesOf(await rowOf(lostEarly.user.id)).length });
  });
  it("re-encrypts webhook endpoints' signing secrets, current and previous; deliveries still sign with both after the old key is retired", async () => {
    const user = await createUser(t);
    created.push(user.id);
    const endpoint = await createEndpoint(t, user, { url: "https://consumer.test/hooks" });
    const rotation = await t.request(`${ENDPOINTS}/${endpoint.id}/rotate-secret`, { method: "POST", token: user.token });
    const { secret: fresh } = (await rotation.json()) as { secret: string };
    const KEY_B = newKey();
    const rotated = withKeys(t, KEY_B, KEY_A);
    expect(await rotationStatus(rotated)).toEqual({ current_kid: await kidOf(KEY_B), envelopes_under_old_keys: 2, unreadable_envelopes: 0 });

    vi.spyOn(console, "log").mockImplementation(() => {});
    expect(await reencryptEverywhere(await createDeps(rotated.env), { limit: 1 })).toEqual({ reencrypted: 2, remaining: 0, unreadable: 0 });
    vi.restoreAllMocks();
    const row = (await (await dbOf(user.id)).prepare("SELECT secret_envelope, previous_secret_envelope FROM webhook_endpoints WHERE id = ?").bind(endpoint.id).first<Record<string, string>>())!;
    const label = `webhook_endpoint_secret:${user.id}:${endpoint.id}`;
    expect(await open(row.secret_envelope!, KEY_B, label)).toBe(fresh);
    expect(await open(row.previous_secret_envelope!, KEY_B, label)).toBe(endpoint.secret);

    // A retired: the endpoint is read, signed and delivered with both secrets, under B alone.
    const retired = withKeys(t, KEY_B);
    expect(await rotationStatus(retired)).toMatchObject({ envelopes_under_old_keys: 0, unreadable_envelopes: 0 });
    const consumer = receiver(t, "https://consumer.test");
    await ping(retired, user, endpoint.id);
    await runWebhookBatch(retired, t.webhookQueue.take(), {}, retired.env);
    expect(consumer.received).toHaveLength(1);
    expect(signaturesOf(consumer.received[0]!)).toHaveLength(2);
    verifyWith(fresh, consumer.received[0]!);
    verifyWith(endpoint.secret, consumer.received[0]!);
    expect((await deliveries(retired, user, endpoint.id))[0]).toMatchObject({ status: "delivered" });
  });

  it("an endpoint's secret rotated while the job runs is not overwritten with the envelopes read before", async () => {
    const user = await createUser(t);
    created.push(user.id);
    const endpoint = await createEndpoint(t, user, { url: "https://consumer.test/hooks" });
    const KEY_B = newKey();
    const rotated = withKeys(t, KEY_B, KEY_A);
    const deps = forShard(await createDeps(rotated.env), await shardOf(user.id));
    let fresh = "";
    const realBatch = deps.db.batch.bind(deps.db);
    vi.spyOn(deps.db, "batch").mockImplementation(async (writes) => {
      const res = await rotated.request(`${ENDPOINTS}/${endpoint.id}/rotate-secret`, { method: "POST", token: user.token });
      fresh = ((await res.json()) as { secret: string }).secret;
      return realBatch(writes);
    });
    vi.spyOn(console, "log").mockImplementation(() => {});
    expect(await reencryptEnvelopes(deps)).toEqual({ reencrypted: 0, remaining: 1, unreadable: 0 });
    vi.restoreAllMocks();
    const row = (await (await dbOf(user.id)).prepare("SELECT secret_envelope, previous_secret_envelope FROM webhook_endpoints WHERE id = ?").bind(endpoint.id).first<Record<string, string>>())!;
    const label = `webhook_endpoint_secret:${user.id}:${endpoint.id}`;
    expect(await open(row.secret_envelope!, KEY_B, label)).toBe(fresh);
    // The previous secret is the envelope the rotation moved (still under A), counted as left to do.
    expect(await open(row.previous_secret_envelope!, KEY_A, label)).toBe(endpoint.secret);
  });
});
