import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import type { SyncMessage } from "../src/queue/messages";
import { ADMIN_TOKEN, callWorker, dataDbs, dbOf, type TestUser } from "./helpers";
import { deliver, drainQueue, QUEUE } from "./queue-helpers";
import { stored, truth } from "./stored";
import { CONN, connected, deltaOptions, putWorkout, sendWebhook, type SyncContext, useSyncContext } from "./sync-helpers";
import { createEndpoint, deliveries, drainWebhooks, ping, receiver, verifyWith } from "./webhook-helpers";

// POST /admin/v1/users/{id}/move (SPEC §12): copy, switch, delete, safe to retry, nothing lost or
// duplicated while sync runs around it. Interleavings come from a held Hevy answer and queue
// messages run by hand.

const directoryOf = async (userId: string) =>
  (await env.DB.prepare("SELECT shard, moving_to, move_cleanup FROM users WHERE id = ?").bind(userId).first<{ shard: number | null; moving_to: number | null; move_cleanup: number | null }>())!;

/** Every row of the user in one database, table by table (directory tables left out). */
async function rowsIn(db: D1Database, userId: string): Promise<Record<string, number>> {
  const tables = ["hevy_connections", "hevy_workouts", "hevy_exercise_templates", "sync_runs", "hevy_prs", "hevy_weeks", "hevy_week_templates",
    "hevy_rollup_state", "hevy_skipped_workouts", "source_workouts", "daily_recovery", "exports", "hevy_user_keys",
    "webhook_endpoints", "webhook_events", "webhook_deliveries", "webhook_attempts"];
  const out: Record<string, number> = {};
  for (const table of tables) out[table] = (await db.prepare(`SELECT count(*) AS n FROM ${table} WHERE user_id = ?`).bind(userId).first<{ n: number }>())!.n;
  for (const table of ["hevy_exercises", "hevy_sets"]) {
    out[table] = (await db.prepare(`SELECT count(*) AS n FROM ${table} c JOIN hevy_workouts w ON w.key = c.workout_key WHERE w.user_id = ?`).bind(userId).first<{ n: number }>())!.n;
  }
  out.users = (await db.prepare("SELECT count(*) AS n FROM users WHERE id = ?").bind(userId).first<{ n: number }>())!.n;
  return out;
}

const nothing = (counts: Record<string, number>) => Object.values(counts).every((n) => n === 0);

async function requestMove(t: SyncContext, user: TestUser, shard: number) {
  return t.request(`/admin/v1/users/${user.id}/move`, { method: "POST", token: ADMIN_TOKEN, json: { shard } });
}

/** The queue's delayed messages, due now (the move waits MOVE_GRACE_SECONDS; a moving user's jobs wait too). */
function dueNow(t: SyncContext): SyncMessage[] {
  const due = t.queue.delayed.splice(0).map((d) => d.body);
  t.queue.messages.push(...due);
  return due;
}

/** What the user reads through the API. */
async function answers(t: SyncContext, user: TestUser) {
  const get = async (path: string) => {
    const res = await t.request(path, { token: user.token });
    expect(res.status, path).toBe(200);
    return res.json();
  };
  return {
    workouts: await get("/api/v1/workouts/hevy?limit=100"),
    summary: await get("/api/v1/hevy/summary?weeks=12"),
    unified: await get("/api/v1/workouts/unified?limit=100"),
    connection: await get(CONN),
  };
}

describe("POST /admin/v1/users/{id}/move", () => {
  const t = useSyncContext();

  it("copies every row to the other shard, switches the directory, deletes the old copy; answers and webhooks carry on", async () => {
    const { user, apiKey } = await connected(t, 12);
    // An outgoing webhook endpoint with a delivered ping: its secret, deliveries and attempts move too.
    const consumer = receiver(t, "https://consumer.test");
    const endpoint = await createEndpoint(t, user, { url: "https://consumer.test/hooks" });
    const pinged = await ping(t, user, endpoint.id);
    await drainWebhooks(t);
    expect(consumer.received).toHaveLength(1);
    const ah = [{ external_id: "ah-1", activity_type: "running", start_time: "2026-11-20T07:00:00Z", end_time: "2026-11-20T07:40:00Z" }];
    expect((await t.request("/api/v1/sources/apple_health/workouts", { method: "PUT", token: user.token, json: { items: ah } })).status).toBe(200);
    expect((await t.request("/api/v1/recovery/whoop", { method: "PUT", token: user.token, json: { items: [{ date: "2026-11-21", score: 70 }] } })).status).toBe(200);
    const from = (await directoryOf(user.id)).shard!;
    const to = 1 - from;
    const before = { rows: await rowsIn(await dbOf(user.id), user.id), stored: await stored(user.id), answers: await answers(t, user) };
    expect(before.rows.hevy_sets).toBeGreaterThan(20);

    const res = await requestMove(t, user, to);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ id: user.id, shard: from, moving_to: to });
    // While it moves: reads still answer, writes wait.
    expect((await t.request("/api/v1/hevy/summary", { token: user.token })).status).toBe(200);
    const write = await t.request("/api/v1/recovery/oura", { method: "PUT", token: user.token, json: { items: [{ date: "2026-11-21", score: 80 }] } });
    expect(write.status).toBe(503);
    expect(write.headers.get("retry-after")).toBe("30");
    // The move waits a minute (writes that passed the check just before land first).
    expect(t.queue.delayed.map((d) => [d.body.type, d.delaySeconds])).toEqual([["move_user", 60]]);

    dueNow(t);
    await drainQueue(t, deltaOptions());
    expect(await directoryOf(user.id)).toEqual({ shard: to, moving_to: null, move_cleanup: null });
    const target = dataDbs()[to + 1]!;
    // Every row, plus the run of the delta the move queued to catch up (it found nothing new).
    expect(await rowsIn(target, user.id)).toEqual({ ...before.rows, sync_runs: before.rows.sync_runs! + 1 });
    expect(nothing(await rowsIn(dataDbs()[from + 1]!, user.id))).toBe(true);
    expect(await stored(user.id)).toEqual(before.stored);
    const after = await answers(t, user);
    expect(after.workouts).toEqual(before.answers.workouts);
    expect(after.summary).toEqual(before.answers.summary);
    expect(after.unified).toEqual(before.answers.unified);

    // The webhook still finds the user, now on the other shard.
    const created = putWorkout(t, apiKey);
    expect((await sendWebhook(t, apiKey, created.id)).status).toBe(200);
    await drainQueue(t, deltaOptions());
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    expect(nothing(await rowsIn(dataDbs()[from + 1]!, user.id))).toBe(true);

    // The webhook endpoint moved with its history and still delivers, signed with the secret shown at its creation.
    // (The workout the Hevy webhook announced above is an event of its own, delivered here too.)
    const again = await ping(t, user, endpoint.id);
    await drainWebhooks(t);
    const pings = consumer.received.filter((r) => (JSON.parse(r.body) as { type: string }).type === "ping");
    expect(pings.map((r) => r.headers["webhook-id"])).toEqual([pinged, again]);
    for (const r of consumer.received) verifyWith(endpoint.secret, r);
    const moved = await deliveries(t, user, endpoint.id);
    expect(moved.filter((d) => d.event_type === "ping").map((d) => [d.event_id, d.status, d.attempt_count])).toEqual([[again, "delivered", 1], [pinged, "delivered", 1]]);
    expect(moved.every((d) => d.status === "delivered")).toBe(true);
    expect(nothing(await rowsIn(dataDbs()[from + 1]!, user.id))).toBe(true);
  });

  it("during a delta and a webhook delivery: the delta's held writes go nowhere, the webhook's fetch waits, and every workout ends on the new shard once", async () => {
    const { user, apiKey } = await connected(t, 8);
    const from = (await directoryOf(user.id)).shard!;
    const to = 1 - from;
    // Changes in Hevy: an edit, a deletion, a new workout (the delta's), then one more announced by a webhook.
    const [a, b] = t.hevy.listWorkouts(apiKey);
    putWorkout(t, apiKey, { id: a!.id, title: "Edited" });
    t.hevy.deleteWorkout(apiKey, b!.id);
    putWorkout(t, apiKey);
    expect((await t.request(`${CONN}/sync`, { method: "POST", token: user.token })).status).toBe(202);
    const [delta] = t.queue.take();
    const held = t.hevy.pause({ path: "/v1/workouts/events", query: { page: "1" } });
    const running = deliver(t, QUEUE, delta, 1, deltaOptions());
    await held.arrived; // the delta has read its connection and asked Hevy; the answer waits

    expect((await requestMove(t, user, to)).status).toBe(202);
    const announced = putWorkout(t, apiKey);
    expect((await sendWebhook(t, apiKey, announced.id)).status).toBe(200);
    const [webhookJob, ...none] = t.queue.take();
    expect([webhookJob!.type, none]).toEqual(["webhook_workout", []]);
    const [move] = dueNow(t);
    t.queue.take();
    expect(move!.type).toBe("move_user");
    // The webhook's fetch comes first and waits for the move (sent again with a delay).
    expect((await deliver(t, QUEUE, webhookJob, 1, deltaOptions())).retryMessages).toEqual([]);
    expect(t.queue.delayed.map((d) => d.body)).toContainEqual(webhookJob);
    // The move runs to completion while the delta is still held.
    expect((await deliver(t, QUEUE, move, 1, deltaOptions())).retryMessages).toEqual([]);
    expect((await directoryOf(user.id)).shard).toBe(to);

    held.release();
    await running; // its writes were fenced: nothing in the old shard, nothing half-written in the new one
    expect(nothing(await rowsIn(dataDbs()[from + 1]!, user.id))).toBe(true);

    // What the queue would deliver later: the webhook's fetch, and the catch-up the move queued.
    dueNow(t);
    await drainQueue(t, deltaOptions());
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    const target = await rowsIn(dataDbs()[to + 1]!, user.id);
    expect(target.hevy_workouts).toBe(t.hevy.listWorkouts(apiKey).length + 1); // the deletion's tombstone
    expect(nothing(await rowsIn(dataDbs()[from + 1]!, user.id))).toBe(true);
  });

  it("is safe to run again: a redelivered move, and a move to where the user already is, change nothing", async () => {
    const { user } = await connected(t, 6);
    const from = (await directoryOf(user.id)).shard!;
    const to = 1 - from;
    const before = await stored(user.id);
    expect((await requestMove(t, user, to)).status).toBe(202);
    const [move] = dueNow(t);
    t.queue.take();
    // Another delivery holds the move: this one waits.
    await env.DB.prepare("UPDATE users SET move_lease_until = ? WHERE id = ?").bind(Date.now() + 60_000, user.id).run();
    const waiting = await deliver(t, QUEUE, move, 1, deltaOptions());
    expect(waiting.retryMessages).toHaveLength(1);
    expect(waiting.delaySeconds).toBeGreaterThanOrEqual(60);
    expect(await directoryOf(user.id)).toMatchObject({ shard: from, moving_to: to });
    await env.DB.prepare("UPDATE users SET move_lease_until = NULL WHERE id = ?").bind(user.id).run();
    await deliver(t, QUEUE, move, 2, deltaOptions());
    await deliver(t, QUEUE, move, 3, deltaOptions()); // the queue delivers it again: the move is over, nothing happens
    t.queue.take();
    const again = await requestMove(t, user, to); // already there
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ id: user.id, shard: to, moving_to: null });
    expect(t.queue.delayed).toEqual([]);
    // A message of an earlier move (another move id) does nothing either.
    await deliver(t, QUEUE, { ...move, moveId: crypto.randomUUID() }, 1, deltaOptions());
    await drainQueue(t, deltaOptions());
    expect(await directoryOf(user.id)).toEqual({ shard: to, moving_to: null, move_cleanup: null });
    expect(await stored(user.id)).toEqual(before);
    const rows = await rowsIn(dataDbs()[to + 1]!, user.id);
    expect(rows.hevy_workouts).toBe(6);
    expect(nothing(await rowsIn(dataDbs()[from + 1]!, user.id))).toBe(true);
  });

  it("while it moves: a zone change waits (409), a queued export ends failed with the reason, and both work after", async () => {
    const { user } = await connected(t, 3);
    const to = 1 - (await directoryOf(user.id)).shard!;
    const exp = await t.request("/api/v1/exports/hevy-csv", { method: "POST", token: user.token, json: {} });
    expect(exp.status).toBe(202);
    const { id: exportId } = (await exp.json()) as { id: string };
    t.queue.take(); // the export job never runs before the move
    expect((await requestMove(t, user, to)).status).toBe(202);
    const patch = (zone: string) => t.request(`/admin/v1/users/${user.id}`, { method: "PATCH", token: ADMIN_TOKEN, json: { timezone: zone } });
    expect((await patch("Asia/Tokyo")).status).toBe(409);
    dueNow(t);
    await drainQueue(t, deltaOptions());
    const view = (await (await t.request(`/api/v1/exports/${exportId}`, { token: user.token })).json()) as { status: string; error: string };
    expect(view).toMatchObject({ status: "failed" });
    expect(view.error).toMatch(/moved to another database/);
    expect((await patch("Asia/Tokyo")).status).toBe(200);
  });

  it("refuses a shard this deployment does not have, an unknown user, and a bad body", async () => {
    const { user } = await connected(t, 0);
    expect((await requestMove(t, user, 7)).status).toBe(400);
    expect((await t.request(`/admin/v1/users/${crypto.randomUUID()}/move`, { method: "POST", token: ADMIN_TOKEN, json: { shard: 0 } })).status).toBe(404);
    expect((await t.request(`/admin/v1/users/${user.id}/move`, { method: "POST", token: ADMIN_TOKEN, json: { shard: "1" } })).status).toBe(400);
    expect((await t.request(`/admin/v1/users/${user.id}/move`, { method: "POST", token: user.token, json: { shard: 0 } })).status).toBe(401);
    expect(t.queue.take()).toEqual([]);
  });
});

describe("the upgrade from one database: POST /admin/v1/users/move-legacy", () => {
  const t = useSyncContext();

  /** A user as a deployment from before sharding has them: directory row with no shard, their rows in DB. */
  async function legacyUser(n: number): Promise<TestUser> {
    const id = crypto.randomUUID();
    const token = `vt_legacy${n}${crypto.randomUUID().replace(/-/g, "")}`;
    const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)))].map((b) => b.toString(16).padStart(2, "0")).join("");
    await env.DB.batch([
      env.DB.prepare("INSERT INTO users (id, email, timezone, created_at, shard) VALUES (?, ?, 'Europe/Berlin', 0, NULL)").bind(id, `legacy${n}-${id.slice(0, 6)}@example.com`),
      env.DB.prepare("INSERT INTO api_tokens (id, user_id, token_digest, created_at) VALUES (?, ?, ?, 0)").bind(crypto.randomUUID(), id, digest),
      env.DB.prepare("INSERT INTO hevy_rollup_state (user_id, zone) VALUES (?, 'Europe/Berlin')").bind(id),
    ]);
    return { id, email: "", token };
  }

  it("moves every user still in DB to the shards, evenly; each user's rows and answers are the same before and after", async () => {
    const users: Array<{ user: TestUser; apiKey: string }> = [];
    for (let n = 0; n < 3; n++) {
      const user = await legacyUser(n);
      const account = t.hevy.createAccount();
      t.hevy.generateHistory(account.apiKey, 5 + n, { seed: n, end: new Date(Date.now() - 86_400_000) });
      expect((await t.request(CONN, { method: "PUT", token: user.token, json: { api_key: account.apiKey } })).status).toBe(202);
      await drainQueue(t, deltaOptions());
      expect((await t.request("/api/v1/recovery/oura", { method: "PUT", token: user.token, json: { items: [{ date: "2026-11-21", score: 60 + n }] } })).status).toBe(200);
      users.push({ user, apiKey: account.apiKey });
    }
    const before = [];
    for (const { user } of users) {
      expect(await directoryOf(user.id)).toEqual({ shard: null, moving_to: null, move_cleanup: null });
      before.push({ rows: await rowsIn(env.DB, user.id), stored: await stored(user.id), answers: await answers(t, user) });
    }

    // Each goes to the shard with the fewest users at its turn (in id order), those on their way included.
    const counts = [0, 0];
    for (const r of (await env.DB.prepare("SELECT shard, count(*) AS n FROM users WHERE shard IS NOT NULL GROUP BY shard").all<{ shard: number; n: number }>()).results) counts[r.shard] = r.n;
    const expected = new Map<string, number>();
    for (const { user } of [...users].sort((a, b) => (a.user.id < b.user.id ? -1 : 1))) {
      const pick = counts[1]! < counts[0]! ? 1 : 0;
      counts[pick]!++;
      expected.set(user.id, pick);
    }
    const res = await t.request("/admin/v1/users/move-legacy", { method: "POST", token: ADMIN_TOKEN });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ queued: 3, remaining: 0 });
    dueNow(t);
    await drainQueue(t, deltaOptions());

    for (const [i, { user, apiKey }] of users.entries()) {
      expect(await directoryOf(user.id)).toEqual({ shard: expected.get(user.id), moving_to: null, move_cleanup: null });
      const db = await dbOf(user.id);
      expect(db).not.toBe(env.DB);
      // The rows, plus the run of the catch-up delta the move queued.
      expect(await rowsIn(db, user.id)).toEqual({ ...before[i]!.rows, sync_runs: before[i]!.rows.sync_runs! + 1 });
      expect(await stored(user.id)).toEqual(before[i]!.stored);
      expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
      const after = await answers(t, user);
      expect(after.workouts).toEqual(before[i]!.answers.workouts);
      expect(after.summary).toEqual(before[i]!.answers.summary);
      // In DB only the directory's rows of the user remain.
      expect({ ...(await rowsIn(env.DB, user.id)), users: 0 }).toEqual(Object.fromEntries(Object.keys(before[i]!.rows).map((k) => [k, 0])));
      expect((await env.DB.prepare("SELECT count(*) AS n FROM users WHERE id = ?").bind(user.id).first<{ n: number }>())!.n).toBe(1);
    }
    // Nothing left to move.
    expect(await (await t.request("/admin/v1/users/move-legacy", { method: "POST", token: ADMIN_TOKEN })).json()).toEqual({ queued: 0, remaining: 0 });
  });
});

describe("placement of new users", () => {
  const t = useSyncContext();

  it("puts each new user on the shard with the fewest users (ties: the lowest index), with a copy of the user row there and nothing in DB but the directory's", async () => {
    for (let i = 0; i < 5; i++) {
      const counts = [0, 0];
      for (const r of (await env.DB.prepare("SELECT coalesce(moving_to, shard) AS shard, count(*) AS n FROM users WHERE coalesce(moving_to, shard) IS NOT NULL GROUP BY 1").all<{ shard: number; n: number }>()).results) counts[r.shard] = r.n;
      const res = await t.request("/admin/v1/users", { method: "POST", token: ADMIN_TOKEN, json: { email: `placed${i}-${crypto.randomUUID().slice(0, 8)}@example.com`, timezone: "Asia/Tokyo" } });
      expect(res.status).toBe(201);
      const { user } = (await res.json()) as { user: { id: string } };
      const shard = counts[1]! < counts[0]! ? 1 : 0;
      expect((await directoryOf(user.id)).shard).toBe(shard);
      const copy = await dataDbs()[shard + 1]!.prepare("SELECT id, timezone FROM users WHERE id = ?").bind(user.id).first();
      expect(copy).toEqual({ id: user.id, timezone: "Asia/Tokyo" });
      expect(await dataDbs()[shard + 1]!.prepare("SELECT zone FROM hevy_rollup_state WHERE user_id = ?").bind(user.id).first()).toEqual({ zone: "Asia/Tokyo" });
      expect(await env.DB.prepare("SELECT count(*) AS n FROM hevy_rollup_state WHERE user_id = ?").bind(user.id).first()).toEqual({ n: 0 });
    }
  });
});

describe("a webhook delivery racing the end of a move", () => {
  const t = useSyncContext();

  it("read the old shard after its copy was cleared: it looks again where the directory says now, and is queued", async () => {
    const { user, apiKey } = await connected(t, 3);
    const from = (await directoryOf(user.id)).shard!;
    const to = 1 - from;
    expect((await requestMove(t, user, to)).status).toBe(202);
    const [move] = dueNow(t);
    t.queue.take();
    const created = putWorkout(t, apiKey);
    const delivery = t.hevy.webhookDelivery(apiKey, created.id)!;
    // The intake has read the directory (the old shard); just before it reads the old shard's
    // connection row, the move runs to its end and clears that copy.
    const oldShard = dataDbs()[from + 1]!;
    let raced = false;
    const wrapD1 = (d1: D1Database): D1Database => {
      if (d1 !== oldShard) return d1;
      return new Proxy(d1, {
        get(target, prop) {
          if (prop === "prepare") {
            return (query: string) => {
              const statement = target.prepare(query);
              if (raced || !/webhook_secret_digest/.test(query) || !/from "hevy_connections"/i.test(query)) return statement;
              raced = true;
              return new Proxy(statement, {
                get(s, p) {
                  if (p === "bind") return (...values: unknown[]) => {
                    const bound = s.bind(...values);
                    return new Proxy(bound, {
                      get(b, q) {
                        const v = Reflect.get(b, q);
                        if (q === "all" || q === "first" || q === "raw" || q === "run") {
                          return async (...args: unknown[]) => {
                            await deliver(t, QUEUE, move, 1, deltaOptions());
                            return (v as (...a: unknown[]) => unknown).apply(b, args);
                          };
                        }
                        return typeof v === "function" ? v.bind(b) : v;
                      },
                    });
                  };
                  const v = Reflect.get(s, p);
                  return typeof v === "function" ? v.bind(s) : v;
                },
              });
            };
          }
          const v = Reflect.get(target, prop);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
    };
    const app = createApp({ deps: { wrapD1, queue: t.queue as unknown as Queue<SyncMessage> } });
    const res = await callWorker(t.env, new URL(delivery.url).pathname, { method: "POST", headers: delivery.headers, body: await delivery.text(), app });
    expect(raced).toBe(true);
    expect((await directoryOf(user.id)).shard).toBe(to);
    expect(res.status).toBe(200);
    expect(t.queue.messages.map((m) => m.type)).toContain("webhook_workout");
    dueNow(t);
    await drainQueue(t, deltaOptions());
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
  });
});
