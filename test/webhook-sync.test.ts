import { describe, expect, it } from "vitest";
import type { SyncMessage } from "../src/queue/messages";
import { dbOf, expectProblem } from "./helpers";
import { deliver, drainQueue, QUEUE } from "./queue-helpers";
import { rowsOf, stored, truth } from "./stored";
import {
  connected, connectionRow, deltaOptions, holdResponse, isEventsPage, isWorkoutGet, putWorkout, requestSync, sendWebhook,
  syncRuns, useSyncContext, workoutRows, type SyncContext,
} from "./sync-helpers";

const webhookPath = (t: SyncContext, apiKey: string) => new URL(t.hevy.webhookSubscription(apiKey)!.url).pathname;

describe("POST /webhooks/hevy/{secret} → queued workout fetch", () => {
  const t = useSyncContext();

  it("answers Hevy at once without calling it, even while Hevy is slow, and the queued fetch stores the workout", async () => {
    const { user, apiKey } = await connected(t, 3);
    const created = putWorkout(t, apiKey, { title: "Fresh" });
    t.hevy.setLatency(6_000); // longer than Hevy's 5 s: any inline call would show
    const requestsBefore = t.hevy.requests.length;
    const started = Date.now();
    const res = await sendWebhook(t, apiKey, created.id);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "queued" });
    expect(t.hevy.requests.length).toBe(requestsBefore);
    expect(t.queue.messages).toEqual([{ type: "webhook_workout", userId: user.id, workoutId: created.id, deliveryId: expect.any(String) }]);

    t.hevy.setLatency(0);
    await drainQueue(t, deltaOptions());
    expect(t.hevy.requests.slice(requestsBefore).map((r) => r.path)).toEqual([`/v1/workouts/${created.id}`]);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    expect((await syncRuns(user.id, "webhook"))[0]).toMatchObject({ outcome: "ok", upserts: 1, hevy_requests: 1 });
    const got = await t.request(`/api/v1/workouts/hevy/${created.id}`, { token: user.token });
    expect(await got.json()).toMatchObject({ id: created.id, title: "Fresh", updated_at: created.updated_at });
  });

  it("rejects an unknown secret (404), a wrong Authorization (401) and a malformed body (400), in that order, queuing nothing", async () => {
    const { user, apiKey } = await connected(t, 0);
    const other = await connected(t, 0);
    const path = webhookPath(t, apiKey);
    const token = t.hevy.webhookSubscription(apiKey)!.authToken;
    const otherToken = t.hevy.webhookSubscription(other.apiKey)!.authToken;
    const good = { id: crypto.randomUUID(), payload: { workoutId: putWorkout(t, apiKey).id } };
    const post = (p: string, authorization: string | null, body: string) =>
      t.request(p, { method: "POST", headers: { "content-type": "application/json", ...(authorization === null ? {} : { authorization }) }, body });
    const requestsBefore = t.hevy.requests.length;

    const secret = path.split("/").pop()!;
    const unknown = `/webhooks/hevy/${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`; // one character off
    await expectProblem(await post(unknown, token, JSON.stringify(good)), 404, "not_found");
    await expectProblem(await post(unknown, "wrong", "{"), 404, "not_found"); // the secret is checked first
    for (const auth of [null, "", otherToken, `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`, token.replace(/^Bearer /, "")]) {
      await expectProblem(await post(path, auth, JSON.stringify(good)), 401, "unauthorized");
    }
    await expectProblem(await post(path, otherToken, "{"), 401, "unauthorized"); // Authorization before the body
    await expectProblem(await post(path, token, "{"), 400, "invalid_json");
    for (const body of [{}, { id: "x" }, { payload: { workoutId: "w" } }, { id: "x", payload: {} }, { id: "x", payload: { workoutId: 7 } }, []]) {
      await expectProblem(await post(path, token, JSON.stringify(body)), 400, "validation_failed");
    }
    expect(t.queue.messages).toEqual([]);
    expect(t.hevy.requests.length).toBe(requestsBefore);
    expect(await syncRuns(user.id, "webhook")).toEqual([]);

    // Hevy's own delivery still works.
    expect((await post(path, token, JSON.stringify(good))).status).toBe(200);
    expect(t.queue.messages).toHaveLength(1);
  });

  it("a flood of 100 deliveries for 10 workouts, Hevy's retries included, leaves exactly one copy of each", async () => {
    const { user, apiKey } = await connected(t, 5);
    // 100 at once is over the connection's rate limit (test/rate-limits.test.ts); here every one gets in.
    t.env.WEBHOOK_RATE_LIMIT = { limit: async () => ({ success: true }) };
    const fresh = Array.from({ length: 10 }, (_, i) => putWorkout(t, apiKey, { title: `Session ${i}`, weight: 60 + i }));
    const path = webhookPath(t, apiKey);
    const token = t.hevy.webhookSubscription(apiKey)!.authToken;
    const deliveries = Array.from({ length: 100 }, (_, i) => ({ id: `delivery-${i % 37}`, payload: { workoutId: fresh[(i * 7) % 10]!.id } }));
    const answers = await Promise.all(
      deliveries.map((body) => t.request(path, { method: "POST", headers: { authorization: token }, json: body }).then((r) => r.status)),
    );
    expect(answers).toEqual(Array(100).fill(200));
    expect(t.queue.messages).toHaveLength(100);

    const drained = await drainQueue(t, deltaOptions());
    expect(drained.delivered.every((d) => d.outcome === "ack")).toBe(true);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    const counts = await (await dbOf(user.id)).prepare(
      `SELECT (SELECT count(*) FROM hevy_workouts WHERE user_id = ?1) AS workouts,
              (SELECT count(*) FROM ${rowsOf("hevy_exercises")}) AS exercises,
              (SELECT count(*) FROM ${rowsOf("hevy_sets")}) AS sets`,
    ).bind(user.id).first();
    const all = t.hevy.listWorkouts(apiKey);
    expect(counts).toEqual({
      workouts: 15,
      exercises: all.reduce((n, w) => n + w.exercises.length, 0),
      sets: all.reduce((n, w) => n + w.exercises.reduce((m, e) => m + e.sets.length, 0), 0),
    });
  });

  it("an edit reaching us by webhook and by delta, in either order, ends as one copy of the newest version", async () => {
    const { user, apiKey } = await connected(t, 2);
    const v1 = putWorkout(t, apiKey, { title: "v1" });
    await requestSync(t, user); // the delta sees the creation first…
    await drainQueue(t, deltaOptions());
    expect((await sendWebhook(t, apiKey, v1.id)).status).toBe(200); // …then the webhook arrives
    await drainQueue(t, deltaOptions());
    expect(await workoutRows(user.id, v1.id)).toMatchObject([{ title: "v1", hevy_updated_at: Date.parse(v1.updated_at) }]);

    const v2 = putWorkout(t, apiKey, { id: v1.id, start_time: v1.start_time, title: "v2", weight: 120 });
    expect((await sendWebhook(t, apiKey, v1.id)).status).toBe(200); // a late retry of the delivery fetches v2…
    await drainQueue(t, deltaOptions());
    await requestSync(t, user); // …and the delta brings v2 again
    await drainQueue(t, deltaOptions());
    expect(await workoutRows(user.id, v1.id)).toMatchObject([{ title: "v2", hevy_updated_at: Date.parse(v2.updated_at) }]);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
  });

  it("accepts and ignores deliveries once the connection needs a new key; a fetch already queued does not call Hevy", async () => {
    const { user, apiKey } = await connected(t, 2);
    const created = putWorkout(t, apiKey);
    expect((await sendWebhook(t, apiKey, created.id)).status).toBe(200);
    const [queued] = t.queue.take() as [SyncMessage];
    t.hevy.revokeKey(apiKey);
    await requestSync(t, user);
    await drainQueue(t, deltaOptions()); // the delta meets the 401
    expect((await connectionRow(user.id))!.status).toBe("needs_reconnect");

    const res = await sendWebhook(t, apiKey, putWorkout(t, apiKey).id);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ignored" });
    expect(t.queue.messages).toEqual([]);
    const requestsBefore = t.hevy.requests.length;
    expect((await deliver(t, QUEUE, queued, 1, deltaOptions())).retryMessages).toEqual([]);
    expect(t.hevy.requests.length).toBe(requestsBefore);
    expect(await workoutRows(user.id, created.id)).toEqual([]);
  });
});

describe("racing writers on one workout", () => {
  const t = useSyncContext();

  for (const order of ["stale delta released first", "stale webhook released first"] as const) {
    it(`a webhook fetch, a cron delta and a manual sync end with the newest version, once (${order})`, async () => {
      const { user, apiKey } = await connected(t, 3);
      const v1 = putWorkout(t, apiKey, { title: "v1", weight: 100 });
      expect((await sendWebhook(t, apiKey, v1.id)).status).toBe(200);
      const [webhookMsg] = t.queue.take() as [SyncMessage];

      // The webhook's fetch gets v1 from Hevy, but its answer is held.
      const heldFetch = holdResponse(t, isWorkoutGet(v1.id));
      const webhookRun = deliver(t, QUEUE, webhookMsg, 1, deltaOptions());
      await heldFetch.whenCaptured;

      // Edited to v2; the cron's delta reads the feed (v2), and its answer is held too.
      putWorkout(t, apiKey, { id: v1.id, start_time: v1.start_time, title: "v2", weight: 110 });
      const heldPage = holdResponse(t, isEventsPage(1));
      const cronRun = deliver(t, QUEUE, { type: "delta", userId: user.id, reason: "cron" }, 1, deltaOptions());
      await heldPage.whenCaptured;

      // Edited to v3; the user's manual sync runs to completion and stores v3.
      const v3 = putWorkout(t, apiKey, { id: v1.id, start_time: v1.start_time, title: "v3", weight: 120 });
      await requestSync(t, user);
      await drainQueue(t, deltaOptions());
      expect(await workoutRows(user.id, v1.id)).toMatchObject([{ title: "v3" }]);

      // Now the stale writers finish.
      const releases = order === "stale delta released first" ? [heldPage, heldFetch] : [heldFetch, heldPage];
      const runs = order === "stale delta released first" ? [cronRun, webhookRun] : [webhookRun, cronRun];
      for (const [i, held] of releases.entries()) {
        held.release();
        expect((await runs[i]!).retryMessages).toEqual([]);
      }

      expect(await workoutRows(user.id, v1.id)).toMatchObject([{ title: "v3", hevy_updated_at: Date.parse(v3.updated_at), volume_kg: 600 }]);
      expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
      const got = (await (await t.request(`/api/v1/workouts/hevy/${v1.id}`, { token: user.token })).json()) as any;
      expect(got.title).toBe("v3");
      expect(got.exercises[0].sets.map((s: any) => s.weight_kg)).toEqual([40, 120]);
      // The slower, older delta did not move the cursor back either.
      expect((await connectionRow(user.id))!.events_cursor).toBe(Date.parse(v3.updated_at));
    });
  }

  it("an update read before a deletion never resurrects the workout (tombstone)", async () => {
    const { user, apiKey } = await connected(t, 3);
    const created = putWorkout(t, apiKey, { title: "Soon gone" });
    expect((await sendWebhook(t, apiKey, created.id)).status).toBe(200);
    const [webhookMsg] = t.queue.take() as [SyncMessage];
    const heldFetch = holdResponse(t, isWorkoutGet(created.id));
    const webhookRun = deliver(t, QUEUE, webhookMsg, 1, deltaOptions());
    await heldFetch.whenCaptured;
    const heldPage = holdResponse(t, isEventsPage(1));
    const staleDelta = deliver(t, QUEUE, { type: "delta", userId: user.id, reason: "cron" }, 1, deltaOptions());
    await heldPage.whenCaptured;

    t.hevy.deleteWorkout(apiKey, created.id);
    await requestSync(t, user);
    await drainQueue(t, deltaOptions());
    heldPage.release();
    heldFetch.release();
    await Promise.all([staleDelta, webhookRun]);

    expect(await workoutRows(user.id, created.id)).toMatchObject([{ deleted_at: expect.any(Number) }]);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    expect((await t.request(`/api/v1/workouts/hevy/${created.id}`, { token: user.token })).status).toBe(404);
    const leftovers = await (await dbOf(user.id)).prepare(`SELECT count(*) AS n FROM ${rowsOf("hevy_sets")} WHERE workout_id = ?2`).bind(user.id, created.id).first<{ n: number }>();
    expect(leftovers!.n).toBe(0);
  });
});
