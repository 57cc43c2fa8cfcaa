import { describe, expect, it } from "vitest";
import { createHevyClient } from "../src/hevy/client";
import { dbOf, HEVY_BASE } from "./helpers";
import { drainQueue, MAX_DELIVERIES, recordingRetryPolicy } from "./queue-helpers";
import { stored, truth } from "./stored";
import {
  afterAnswer, apiWorkouts, CONN, connected, connectionRow, deltaOptions, eventRequests, isEventsPage, putWorkout, requestSync,
  sendWebhook, syncRuns, useSyncContext, view,
} from "./sync-helpers";

const keyBytes = async (userId: string) =>
  (await (await dbOf(userId)).prepare("SELECT hex(api_key_envelope) AS hex FROM hevy_connections WHERE user_id = ?").bind(userId).first<{ hex: string }>())!.hex;
const iso = (ms: number) => new Date(ms).toISOString();

describe("Hevy rejects the key (401)", () => {
  const t = useSyncContext();

  it("midway through a delta: needs_reconnect, the job stops, the key is untouched, workouts stay readable; a new key resumes from the cursor", async () => {
    const { user, apiKey } = await connected(t, 6);
    const cursor = (await connectionRow(user.id))!.events_cursor as number;
    const keyBefore = await keyBytes(user.id);
    for (let i = 0; i < 20; i++) putWorkout(t, apiKey, { title: `W${i}` }); // two pages of events
    afterAnswer(t, isEventsPage(1), () => t.hevy.revokeKey(apiKey)); // the user revokes the key in Hevy meanwhile
    const before = t.hevy.requests.length;

    await requestSync(t, user);
    const drained = await drainQueue(t, deltaOptions());
    expect(drained.delivered.map((d) => d.outcome)).toEqual(["ack"]); // stopped, not retried
    expect(t.hevy.requests.slice(before).map((r) => [r.query.page, r.status])).toEqual([["1", 200], ["2", 401]]);
    const v = await view(t, user);
    expect(v.status).toBe("needs_reconnect");
    expect(v.last_error).toContain("401");
    expect(await keyBytes(user.id)).toBe(keyBefore);
    expect((await connectionRow(user.id))!.events_cursor).toBe(cursor); // page 2 was never stored
    expect((await syncRuns(user.id, "delta")).map((r) => r.outcome)).toEqual(["needs_reconnect"]);
    const readable = await apiWorkouts(t, user);
    expect(readable.map((w) => w.id).sort()).toEqual((await stored(user.id)).map((w) => w.id));
    expect(readable).toHaveLength(16); // the backfilled 6 and page 1's 10
    expect((await t.request(`/api/v1/workouts/hevy/${readable[0]!.id}`, { token: user.token })).status).toBe(200);

    // More training while disconnected; then a fresh key for the same Hevy account.
    putWorkout(t, apiKey, { title: "While disconnected" });
    const newKey = t.hevy.issueKey(apiKey);
    t.hevy.requests.length = 0;
    expect((await t.request(CONN, { method: "PUT", token: user.token, json: { api_key: newKey } })).status).toBe(202);
    await drainQueue(t, deltaOptions());
    expect(t.hevy.requests.map((r) => r.path).filter((p) => p !== "/v1/workouts/events")).toEqual(["/v1/user/info", "/v1/webhook-subscription"]);
    // 21 events, read from the cursor less the 5-minute overlap (SPEC §11): no full backfill.
    const since = iso(cursor - 5 * 60_000);
    expect(eventRequests(t).map((r) => r.query.since)).toEqual([since, since, since]);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(newKey)));
    expect(await view(t, user)).toMatchObject({ status: "active", last_error: null });
  });

  it("on a webhook fetch: needs_reconnect, key untouched, nothing stored, not retried", async () => {
    const { user, apiKey } = await connected(t, 2);
    const keyBefore = await keyBytes(user.id);
    const created = putWorkout(t, apiKey);
    expect((await sendWebhook(t, apiKey, created.id)).status).toBe(200);
    t.hevy.revokeKey(apiKey);
    const drained = await drainQueue(t, deltaOptions());
    expect(drained.delivered.map((d) => d.outcome)).toEqual(["ack"]);
    expect(t.hevy.requests.at(-1)).toMatchObject({ path: `/v1/workouts/${created.id}`, status: 401 });
    expect((await view(t, user)).status).toBe("needs_reconnect");
    expect(await keyBytes(user.id)).toBe(keyBefore);
    expect((await stored(user.id)).map((w) => w.id)).not.toContain(created.id);
  });
});

describe("other Hevy errors", () => {
  const t = useSyncContext();

  it("a 403 (a quota) is not an auth failure: the connection stays active with its key and a later sync works", async () => {
    const { user, apiKey } = await connected(t, 2);
    const keyBefore = await keyBytes(user.id);
    putWorkout(t, apiKey, { title: "After quota" });
    t.hevy.injectFault({ status: 403, times: 1_000, match: "/v1/workouts/events" });
    await requestSync(t, user);
    const drained = await drainQueue(t, deltaOptions());
    expect(drained.deadLettered).toHaveLength(1);
    const v = await view(t, user);
    expect(v.status).toBe("active");
    expect(v.last_error).toMatch(/Hevy answered 403/);
    expect(await keyBytes(user.id)).toBe(keyBefore);

    t.hevy.clearFaults();
    await requestSync(t, user);
    await drainQueue(t, deltaOptions());
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    expect((await view(t, user)).last_error).toBeNull();
  });

  for (const [form, header, min] of [
    ["seconds", () => "3", 3_000],
    ["an HTTP date", () => new Date(Date.now() + 5_000).toUTCString(), 4_000],
  ] as const) {
    it(`a 429 waits at least Retry-After given as ${form}, then converges`, async () => {
      const { user, apiKey } = await connected(t, 2);
      putWorkout(t, apiKey);
      t.hevy.injectFault({ status: 429, retryAfter: header(), match: "/v1/workouts/events" });
      const retry = recordingRetryPolicy();
      await requestSync(t, user);
      await drainQueue(t, deltaOptions({ delta: { concurrency: 2, retry } }));
      expect(retry.waits).toHaveLength(1);
      expect(retry.waits[0]).toBeGreaterThanOrEqual(min);
      expect(retry.waits[0]).toBeLessThan(min + 2_000);
      expect(eventRequests(t).map((r) => r.status)).toEqual([429, 200]);
      expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    });
  }

  it("a Retry-After longer than worth waiting in-process hands the message back to the queue with that delay", async () => {
    const { user, apiKey } = await connected(t, 2);
    putWorkout(t, apiKey);
    t.hevy.injectFault({ status: 429, retryAfter: "120", match: "/v1/workouts/events" });
    await requestSync(t, user);
    const drained = await drainQueue(t, deltaOptions());
    expect(drained.delivered.map((d) => d.outcome)).toEqual(["retry", "ack"]);
    expect(drained.delivered[0]!.delaySeconds).toBeGreaterThanOrEqual(120);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
  });

  it("429s without Retry-After back off exponentially, with jitter", async () => {
    const { user, apiKey } = await connected(t, 2);
    putWorkout(t, apiKey);
    t.hevy.injectFault({ status: 429, times: 3, match: "/v1/workouts/events" });
    const draws = [0, 1, 0.5];
    const retry = { ...recordingRetryPolicy(), random: () => draws.shift() ?? 0.5 };
    await requestSync(t, user);
    await drainQueue(t, deltaOptions({ delta: { concurrency: 2, retry } }));
    // Attempt n waits a random time in [base·2ⁿ/2, base·2ⁿ] (base 500 ms): the draws 0, 1, 0.5 pick the bottom, top and middle.
    expect(retry.waits).toEqual([250, 1_000, 1_500]);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
  });

  it("5xx, network failures and timeouts are retried with growing backoff, and the run converges", async () => {
    const { user, apiKey } = await connected(t, 2);
    for (let i = 0; i < 12; i++) putWorkout(t, apiKey, { title: `W${i}` });
    for (const fault of [{ status: 500 }, { status: 503 }, { kind: "network" as const }, { kind: "timeout" as const }]) {
      t.hevy.injectFault({ ...fault, match: "/v1/workouts/events" });
    }
    const retry = recordingRetryPolicy();
    const hevy = (apiKey: string, opts?: { onRequest?: () => void }) =>
      createHevyClient({ baseUrl: HEVY_BASE, apiKey, timeoutMs: 50, onRequest: opts?.onRequest }); // Hevy's 10 s, shortened
    await requestSync(t, user);
    const drained = await drainQueue(t, deltaOptions({ deps: { hevy }, delta: { concurrency: 1, retry } }));
    expect(drained.delivered.map((d) => d.outcome)).toEqual(["ack"]);
    expect(retry.waits).toEqual([375, 750, 1_500, 3_000]);
    expect(eventRequests(t).map((r) => r.status)).toEqual([500, 503, 0, 0, 200, 200]);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    expect((await syncRuns(user.id, "delta")).map((r) => r.outcome)).toEqual(["ok"]);
  });

  it("after the queue's last retry the dead-letter consumer records the failure in last_error and sync_runs; a later sync recovers", async () => {
    const { user, apiKey } = await connected(t, 2);
    const cursor = (await connectionRow(user.id))!.events_cursor;
    putWorkout(t, apiKey, { title: "Stuck" });
    t.hevy.injectFault({ status: 500, times: 1_000, match: "/v1/workouts/events" });
    await requestSync(t, user);
    const drained = await drainQueue(t, deltaOptions());
    // Every delivery backs off in-process, then hands the message back with a delay, until max_retries.
    expect(drained.delivered.map((d) => d.outcome)).toEqual(Array(MAX_DELIVERIES).fill("retry"));
    expect(drained.delivered.every((d) => d.delaySeconds! >= 1)).toBe(true);
    expect(eventRequests(t)).toHaveLength(MAX_DELIVERIES * 6);
    expect(drained.deadLettered).toEqual([{ type: "delta", userId: user.id, reason: "manual" }]);
    const v = await view(t, user);
    expect(v.status).toBe("active");
    expect(v.last_error).toBe("Sync failed after repeated Hevy errors (Hevy answered 500 to GET /v1/workouts/events).");
    const runs = await syncRuns(user.id, "delta");
    expect(runs).toHaveLength(MAX_DELIVERIES + 1);
    expect(runs.every((r) => r.outcome === "failed")).toBe(true);
    expect(runs.at(-1)!.error).toBe(v.last_error);
    expect((await connectionRow(user.id))!.events_cursor).toBe(cursor);

    t.hevy.clearFaults();
    await requestSync(t, user);
    await drainQueue(t, deltaOptions());
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    expect((await view(t, user)).last_error).toBeNull();
  });

  it("a webhook fetch that keeps failing is dead-lettered, naming the workout in last_error and sync_runs", async () => {
    const { user, apiKey } = await connected(t, 2);
    const created = putWorkout(t, apiKey);
    t.hevy.injectFault({ status: 503, times: 1_000, match: `/v1/workouts/${created.id}` });
    expect((await sendWebhook(t, apiKey, created.id)).status).toBe(200);
    const drained = await drainQueue(t, deltaOptions());
    expect(drained.deadLettered).toHaveLength(1);
    const v = await view(t, user);
    expect(v.status).toBe("active");
    expect(v.last_error).toBe(`Fetching workout ${created.id} failed after repeated Hevy errors.`);
    expect(await syncRuns(user.id, "webhook")).toMatchObject([{ outcome: "failed", error: v.last_error }]);
  });

  it("a dead-lettered webhook fetch does not borrow an earlier, unrelated failure as its cause", async () => {
    const { user, apiKey } = await connected(t, 2);
    t.hevy.injectFault({ status: 500, times: 1_000, match: "/v1/workouts/events" });
    await requestSync(t, user);
    await drainQueue(t, deltaOptions());
    expect((await view(t, user)).last_error).toBe("Sync failed after repeated Hevy errors (Hevy answered 500 to GET /v1/workouts/events).");

    const created = putWorkout(t, apiKey);
    t.hevy.clearFaults();
    t.hevy.injectFault({ status: 503, times: 1_000, match: `/v1/workouts/${created.id}` });
    expect((await sendWebhook(t, apiKey, created.id)).status).toBe(200);
    expect((await drainQueue(t, deltaOptions())).deadLettered).toHaveLength(1);
    const lastError = (await view(t, user)).last_error!;
    expect(lastError).toContain(`Fetching workout ${created.id} failed after repeated Hevy errors`);
    expect(lastError).not.toContain("/v1/workouts/events");
  });
});
