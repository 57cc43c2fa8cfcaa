// The fault suite: Hevy misbehaving in every way it can, in combination, while the
// user keeps training — and, once the faults stop (and a revoked key is replaced),
// D1 holds exactly what Hevy holds, once, with sync_runs and last_error telling
// the user what happened. Single faults are covered in sync-errors, backfill,
// delta and webhook-sync tests; this file is about combinations and convergence.
import { describe, expect, it } from "vitest";
import type { SyncMessage } from "../src/queue/messages";
import type { FakeFault } from "./fakes/hevy";
import {
  deadLetterRows, isPath, isWorkoutsPage, rowCounts, runHourlyCron, scriptFaults, shortTimeoutHevy, truthCounts,
} from "./fault-helpers";
import { createUser } from "./helpers";
import { DEAD_LETTER_QUEUE, deliver, drainQueue, MAX_DELIVERIES, QUEUE, recordingRetryPolicy } from "./queue-helpers";
import { stored, truth } from "./stored";
import {
  afterAnswer, CONN, connected, connectionRow, deltaOptions, isEventsPage, putWorkout, sendWebhook, syncRuns, useSyncContext, view,
} from "./sync-helpers";

const DAY = 86_400_000;
const EVENTS = "/v1/workouts/events";

interface FullView {
  status: string;
  backfill: { state: string; pages_done: number; page_count: number | null; workouts_synced: number };
  last_sync_at: string | null;
  last_error: string | null;
}

describe("faults in combination, then convergence", () => {
  const t = useSyncContext();
  const options = (over: Parameters<typeof deltaOptions>[0] = {}) => deltaOptions({ deps: { hevy: shortTimeoutHevy }, ...over });

  it("a backfill through every kind of Hevy fault stores exactly Hevy's history, once, and says so", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    t.hevy.addCustomTemplate(account.apiKey, { title: "Landmine Press (Custom)", primary_muscle_group: "shoulders" });
    t.hevy.generateHistory(account.apiKey, 95, { seed: 21, end: new Date(Date.now() - DAY) });
    const templateFaults = scriptFaults(t, isPath("/v1/exercise_templates"), [{ status: 429 }, { kind: "truncated_json" }, { status: 502 }]);
    const workoutFaults = scriptFaults(t, isPath("/v1/workouts"), [
      { status: 429, retryAfter: "2" }, { status: 500 }, { kind: "timeout" }, { kind: "truncated_json" }, { kind: "invalid_schema" },
      { kind: "network" }, { status: 429 },
      { status: 429, retryAfter: "30" }, // longer than an invocation should wait: back to the queue for ≥ 30 s
      ...Array<FakeFault>(18).fill({ status: 503 }), // some page of a chunk sees six in a row: back to the queue
      { kind: "invalid_schema" }, { status: 500 }, { kind: "truncated_json" },
    ]);
    // What the user would have seen on the connection page whenever the Worker called Hevy.
    const seen: Array<string | null> = [];
    t.around(async (_req, url, next) => {
      if (url.pathname === "/v1/workouts") seen.push((await connectionRow(user.id))?.last_error ?? null);
      return next();
    });

    expect((await t.request(CONN, { method: "PUT", token: user.token, json: { api_key: account.apiKey } })).status).toBe(202);
    const retry = recordingRetryPolicy();
    const drained = await drainQueue(t, options({ backfill: { pagesPerChunk: 3, concurrency: 3, retry } }));

    expect([templateFaults.served, workoutFaults.served]).toEqual([templateFaults.total, workoutFaults.total]);
    expect(drained.deadLettered).toEqual([]);
    const handedBack = drained.delivered.filter((d) => d.outcome === "retry");
    expect(handedBack.some((d) => d.delaySeconds! >= 30)).toBe(true); // the 30 s Retry-After went back to the queue
    expect(retry.waits.some((ms) => ms >= 2_000)).toBe(true); // the inline Retry-After: 2 was honoured
    expect(seen.some((e) => /^Hevy (rate-limited|answered 503 to) GET \/v1\/workouts; retrying$/.test(e ?? ""))).toBe(true);

    const hevyTruth = t.hevy.listWorkouts(account.apiKey);
    expect(await stored(user.id)).toEqual(truth(hevyTruth));
    expect(await rowCounts(user.id)).toEqual(truthCounts(hevyTruth, 0));
    const v = (await view(t, user)) as unknown as FullView;
    expect(v).toMatchObject({ status: "active", last_error: null, backfill: { state: "done", pages_done: 10, page_count: 10, workouts_synced: 95 } });
    expect(v.last_sync_at).not.toBeNull();
    // One run, ok, that counted every request it made, the failed ones included.
    const madeByBackfill = t.hevy.requests.filter((r) => r.path !== "/v1/user/info" && r.path !== "/v1/webhook-subscription").length;
    expect(await syncRuns(user.id)).toMatchObject([{ kind: "backfill", outcome: "ok", error: null, hevy_requests: madeByBackfill }]);
    expect(await deadLetterRows(user.id)).toEqual([]);
  });

  it("a delta that meets every fault while the user keeps training, then an outage that dead-letters it, converges on the next hourly run", async () => {
    const { user, apiKey } = await connected(t, 20);
    const cursorBefore = (await connectionRow(user.id))!.events_cursor as number;
    const history = t.hevy.listWorkouts(apiKey);
    const edit = (w: { id: string; start_time: string; end_time: string }, title: string) =>
      putWorkout(t, apiKey, { id: w.id, start_time: w.start_time, end_time: w.end_time, title, weight: 90 + title.length });
    const deleted = new Set<string>();
    const remove = (id: string) => (t.hevy.deleteWorkout(apiKey, id), deleted.add(id));
    for (const w of history.slice(0, 8)) edit(w, `${w.title} (edited)`);
    for (const w of history.slice(8, 11)) remove(w.id);
    const fresh = Array.from({ length: 14 }, (_, i) => putWorkout(t, apiKey, { title: `New ${i}` })); // 25 events: 3 pages

    // Delivery 1: page 1 alone meets four faults and succeeds; pages 2–3 meet three more, then a 429 asking for 45 s.
    const page1 = scriptFaults(t, isEventsPage(1), [{ kind: "truncated_json" }, { kind: "invalid_schema" }, { status: 429, retryAfter: "1" }, { status: 500 }]);
    const pages23 = scriptFaults(t, (url) => isEventsPage(2)(url) || isEventsPage(3)(url), [
      { kind: "timeout" }, { kind: "network" }, { status: 429 }, { status: 429, retryAfter: "45" },
    ]);
    const message: SyncMessage = { type: "delta", userId: user.id, reason: "manual" };
    const first = await deliver(t, QUEUE, message, 1, options());
    expect([page1.served, pages23.served]).toEqual([4, 4]);
    expect(first.retryMessages).toHaveLength(1);
    expect(first.delaySeconds).toBeGreaterThanOrEqual(45);
    expect((await stored(user.id)).length).toBeGreaterThanOrEqual(20 - 3 + 10); // page 1's ten at least
    expect((await connectionRow(user.id))!.events_cursor).toBe(cursorBefore);
    expect(await view(t, user)).toMatchObject({ status: "active", last_error: "Hevy rate-limited GET /v1/workouts/events; retrying" });

    // Meanwhile the user edits a workout again, deletes a new one, logs two more.
    edit(history[0]!, "Edited twice");
    remove(fresh[3]!.id);
    putWorkout(t, apiKey, { title: "Later 1" });
    putWorkout(t, apiKey, { title: "Later 2" });

    // Hevy goes down for the remaining deliveries: the message ends in the dead-letter queue.
    t.hevy.injectFault({ status: 500, times: 10_000, match: EVENTS });
    for (let attempts = 2; attempts <= MAX_DELIVERIES; attempts++) {
      expect((await deliver(t, QUEUE, message, attempts, options())).retryMessages).toHaveLength(1);
    }
    expect((await deliver(t, DEAD_LETTER_QUEUE, message, 1, options())).retryMessages).toEqual([]);
    const failed = "Sync failed after repeated Hevy errors (Hevy answered 500 to GET /v1/workouts/events).";
    expect(await view(t, user)).toMatchObject({ status: "active", last_error: failed });
    expect((await syncRuns(user.id, "delta")).map((r) => r.outcome)).toEqual(Array(MAX_DELIVERIES + 1).fill("failed"));
    expect((await syncRuns(user.id, "delta")).at(-1)!.error).toBe(failed);
    expect(await deadLetterRows(user.id)).toMatchObject([{ reason: "retries_exhausted", message_type: "delta", error: null }]);
    expect((await connectionRow(user.id))!.events_cursor).toBe(cursorBefore);

    // Still training while Hevy is down; then it recovers and the hourly cron runs.
    remove(history[12]!.id);
    const last = edit(history[13]!, "Edited during the outage");
    t.hevy.clearFaults();
    expect(await runHourlyCron(t, user.id)).toEqual([{ type: "delta", userId: user.id, reason: "cron" }]);
    const recovered = await drainQueue(t, options());
    expect(recovered.delivered.map((d) => d.outcome)).toEqual(["ack"]);

    const hevyTruth = t.hevy.listWorkouts(apiKey);
    expect(await stored(user.id)).toEqual(truth(hevyTruth));
    expect(await rowCounts(user.id)).toEqual(truthCounts(hevyTruth, deleted.size));
    expect(await view(t, user)).toMatchObject({ status: "active", last_error: null });
    expect((await syncRuns(user.id, "delta")).at(-1)).toMatchObject({ outcome: "ok", error: null });
    expect((await connectionRow(user.id))!.events_cursor).toBe(Date.parse(last.updated_at));
  });

  // Hevy pages /v1/workouts by position. Deleting listed[14] (page 2, already stored)
  // while disconnected moves listed[30] from page 4 to page 3; a resume that started at
  // page 4 would never read listed[30], and the events feed never reports it (it did
  // not change). The same holds for a deletion between two chunks (next test).
  it("a key revoked mid-backfill, edits and deletions while disconnected, faults on the resume: a new key and the next hourly run converge", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    t.hevy.generateHistory(account.apiKey, 60, { seed: 23, end: new Date(Date.now() - DAY) });
    const listed = t.hevy.listWorkouts(account.apiKey); // Hevy's list order: page p holds listed[10(p-1) … 10p-1]
    const backfill = { pagesPerChunk: 2, concurrency: 1, retry: recordingRetryPolicy() };
    scriptFaults(t, isPath("/v1/workouts"), [{ kind: "truncated_json" }, { status: 429, retryAfter: "1" }]);
    afterAnswer(t, isWorkoutsPage(3), () => t.hevy.revokeKey(account.apiKey)); // the user revokes the key in Hevy
    expect((await t.request(CONN, { method: "PUT", token: user.token, json: { api_key: account.apiKey } })).status).toBe(202);
    const interrupted = await drainQueue(t, options({ backfill }));
    expect(interrupted.delivered.every((d) => d.outcome === "ack")).toBe(true); // a 401 is not retried

    const stopped = (await view(t, user)) as unknown as FullView;
    expect(stopped).toMatchObject({ status: "needs_reconnect", backfill: { state: "failed", pages_done: 3, workouts_synced: 30 } });
    expect(stopped.last_error).toContain("401");
    expect(await syncRuns(user.id)).toMatchObject([{ kind: "backfill", outcome: "needs_reconnect" }]);

    // While disconnected: an edit and a deletion among the stored workouts, a deletion among the
    // rest, two new workouts; Hevy's webhook for one of them is accepted and ignored.
    const deleted = [listed[14]!.id, listed[47]!.id];
    putWorkout(t, account.apiKey, { id: listed[2]!.id, start_time: listed[2]!.start_time, title: "Edited while disconnected" });
    for (const id of deleted) t.hevy.deleteWorkout(account.apiKey, id);
    const created = [putWorkout(t, account.apiKey, { title: "Away 1" }), putWorkout(t, account.apiKey, { title: "Away 2" })];
    expect(await (await sendWebhook(t, account.apiKey, created[0]!.id)).json()).toEqual({ status: "ignored" });
    expect(await runHourlyCron(t, user.id)).toEqual([]); // no delta for a connection that needs a key

    // A new key; Hevy is flaky during the resume.
    const newKey = t.hevy.issueKey(account.apiKey);
    scriptFaults(t, isPath("/v1/workouts"), [{ status: 500 }, { kind: "invalid_schema" }, { kind: "timeout" }, { kind: "network" }]);
    expect((await t.request(CONN, { method: "PUT", token: user.token, json: { api_key: newKey } })).status).toBe(202);
    await drainQueue(t, options({ backfill }));
    expect(await view(t, user)).toMatchObject({ status: "active", last_error: null, backfill: { state: "done" } });
    expect(await runHourlyCron(t, user.id)).toHaveLength(1);
    await drainQueue(t, options());

    const hevyTruth = t.hevy.listWorkouts(newKey);
    expect(await stored(user.id)).toEqual(truth(hevyTruth));
    const counts = (await rowCounts(user.id))!;
    expect({ ...counts, tombstones: undefined }).toEqual({ ...truthCounts(hevyTruth, 0), tombstones: undefined });
    expect(counts.tombstones).toBeLessThanOrEqual(deleted.length); // a deletion of a workout never stored needs no tombstone
    const runs = (await syncRuns(user.id)).map((r) => [r.kind, r.outcome]);
    expect(runs[0]).toEqual(["backfill", "needs_reconnect"]);
    expect(runs.at(-1)).toEqual(["delta", "ok"]); // the resumed backfill's own row: see the next-but-one test

  });

  it("a workout deleted in Hevy between two chunks of a backfill does not push another one out of reach", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    t.hevy.generateHistory(account.apiKey, 40, { seed: 24, end: new Date(Date.now() - DAY) });
    const listed = t.hevy.listWorkouts(account.apiKey);
    afterAnswer(t, isWorkoutsPage(2), () => t.hevy.deleteWorkout(account.apiKey, listed[5]!.id)); // end of the first chunk
    expect((await t.request(CONN, { method: "PUT", token: user.token, json: { api_key: account.apiKey } })).status).toBe(202);
    await drainQueue(t, options({ backfill: { pagesPerChunk: 2, concurrency: 1, retry: recordingRetryPolicy() } }));
    await runHourlyCron(t, user.id); // the deletion itself reaches us through the events feed
    await drainQueue(t, options());
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(account.apiKey)));
  });

  // A resumed run starts in the workouts phase, so its sync_runs row is written when it is queued.
  it("a backfill resumed with a new key is a sync run of its own", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    t.hevy.generateHistory(account.apiKey, 30, { seed: 25, end: new Date(Date.now() - DAY) });
    afterAnswer(t, isWorkoutsPage(1), () => t.hevy.revokeKey(account.apiKey));
    const backfill = { pagesPerChunk: 1, concurrency: 1, retry: recordingRetryPolicy() };
    expect((await t.request(CONN, { method: "PUT", token: user.token, json: { api_key: account.apiKey } })).status).toBe(202);
    await drainQueue(t, options({ backfill }));
    const newKey = t.hevy.issueKey(account.apiKey);
    expect((await t.request(CONN, { method: "PUT", token: user.token, json: { api_key: newKey } })).status).toBe(202);
    await drainQueue(t, options({ backfill }));
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(newKey)));
    expect(await syncRuns(user.id, "backfill")).toMatchObject([
      { outcome: "needs_reconnect", upserts: 10 },
      { outcome: "ok", upserts: 20, error: null },
    ]);
  });

  it("webhook fetches that Hevy keeps failing are dead-lettered and named; the next hourly run stores what they missed", async () => {
    const { user, apiKey } = await connected(t, 3);
    const fresh = Array.from({ length: 6 }, (_, i) => putWorkout(t, apiKey, { title: `Session ${i}`, weight: 80 + i }));
    const [lost1, lost2] = [fresh[1]!, fresh[4]!];
    for (const w of [lost1, lost2]) t.hevy.injectFault({ status: 503, times: 10_000, match: `/v1/workouts/${w.id}` });
    for (const [i, fault] of ([{ status: 429, retryAfter: "1" }, { kind: "truncated_json" }, { kind: "invalid_schema" }, { kind: "timeout" }] as FakeFault[]).entries()) {
      const w = [fresh[0]!, fresh[2]!, fresh[3]!, fresh[5]!][i]!;
      scriptFaults(t, isPath(`/v1/workouts/${w.id}`), [fault]);
    }
    for (const w of fresh) expect((await sendWebhook(t, apiKey, w.id)).status).toBe(200);
    const drained = await drainQueue(t, options());

    expect(drained.deadLettered.map((m) => m.type === "webhook_workout" && m.workoutId).sort()).toEqual([lost1.id, lost2.id].sort());
    const storedIds = (await stored(user.id)).map((w) => w.id);
    expect(fresh.filter((w) => storedIds.includes(w.id)).map((w) => w.title)).toEqual(["Session 0", "Session 2", "Session 3", "Session 5"]);
    const v = await view(t, user);
    expect(v.status).toBe("active");
    expect(v.last_error).toMatch(new RegExp(`^Fetching workout (${lost1.id}|${lost2.id}) failed after repeated Hevy errors\\.$`));
    const runs = await syncRuns(user.id, "webhook");
    expect(runs.filter((r) => r.outcome === "ok")).toHaveLength(4);
    expect(runs.filter((r) => r.outcome === "failed").map((r) => r.error).sort()).toEqual(
      [lost1.id, lost2.id].sort().map((id) => `Fetching workout ${id} failed after repeated Hevy errors.`),
    );
    expect((await deadLetterRows(user.id)).map((r) => [r.reason, r.message_type])).toEqual([
      ["retries_exhausted", "webhook_workout"], ["retries_exhausted", "webhook_workout"],
    ]);

    t.hevy.clearFaults();
    await runHourlyCron(t, user.id);
    await drainQueue(t, options());
    const hevyTruth = t.hevy.listWorkouts(apiKey);
    expect(await stored(user.id)).toEqual(truth(hevyTruth));
    expect(await rowCounts(user.id)).toEqual(truthCounts(hevyTruth, 0));
    expect((await view(t, user)).last_error).toBeNull();
  });

  it("a key revoked mid-delta after retried faults stops cleanly; a new key resumes from the cursor through more faults", async () => {
    const { user, apiKey } = await connected(t, 8);
    const cursor = (await connectionRow(user.id))!.events_cursor as number;
    const made = Array.from({ length: 25 }, (_, i) => putWorkout(t, apiKey, { title: `W${i}` })); // 3 pages of events
    scriptFaults(t, isPath(EVENTS), [{ status: 500 }, { kind: "truncated_json" }, { status: 429 }]);
    afterAnswer(t, isEventsPage(2), () => t.hevy.revokeKey(apiKey));
    const serial = { concurrency: 1, retry: recordingRetryPolicy() };
    const requestsBefore = t.hevy.requests.length;

    expect((await t.request(`${CONN}/sync`, { method: "POST", token: user.token })).status).toBe(202);
    const drained = await drainQueue(t, options({ delta: serial }));
    expect(drained.delivered.map((d) => d.outcome)).toEqual(["ack"]);
    expect(t.hevy.requests.slice(requestsBefore).map((r) => [r.query.page, r.status])).toEqual([
      ["1", 500], ["1", 200], ["1", 429], ["1", 200], ["2", 200], ["3", 401], // the truncated body came with a 200
    ]);
    const stopped = await view(t, user);
    expect(stopped).toMatchObject({ status: "needs_reconnect", last_error: expect.stringContaining("401") });
    expect((await connectionRow(user.id))!.events_cursor).toBe(cursor);
    const partial = (await stored(user.id)).filter((w) => w.title.startsWith("W")).map((w) => w.id).sort();
    expect(partial).toEqual(made.slice(5).map((w) => w.id).sort()); // pages 1–2: the 20 newest events

    // Disconnected: the hourly cron skips the connection; the user edits and deletes in Hevy.
    expect(await runHourlyCron(t, user.id)).toEqual([]);
    putWorkout(t, apiKey, { id: made[0]!.id, start_time: made[0]!.start_time, title: "W0 edited" });
    t.hevy.deleteWorkout(apiKey, made[24]!.id);
    const newKey = t.hevy.issueKey(apiKey);
    scriptFaults(t, isPath(EVENTS), [{ kind: "network" }, { status: 429, retryAfter: "1" }, { kind: "invalid_schema" }]);
    expect((await t.request(CONN, { method: "PUT", token: user.token, json: { api_key: newKey } })).status).toBe(202);
    const resumed = await drainQueue(t, options({ delta: serial }));
    expect(resumed.delivered.map((d) => [d.body.type, d.outcome])).toEqual([["delta", "ack"]]); // no second backfill

    const hevyTruth = t.hevy.listWorkouts(newKey);
    expect(await stored(user.id)).toEqual(truth(hevyTruth));
    expect(await rowCounts(user.id)).toEqual(truthCounts(hevyTruth, 1));
    expect(await view(t, user)).toMatchObject({ status: "active", last_error: null });
    expect((await syncRuns(user.id, "delta")).map((r) => r.outcome)).toEqual(["needs_reconnect", "ok"]);
  });
});
