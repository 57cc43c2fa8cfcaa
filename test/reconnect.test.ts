import { describe, expect, it } from "vitest";
import { fanOutDeltas, resumeBackfills } from "../src/cron";
import { createDeps, dataDatabases, type Deps, forShard } from "../src/deps";
import type { SyncMessage } from "../src/queue/messages";
import { createUser, dbOf, expectProblem, type TestUser } from "./helpers";
import type { HevyWorkout } from "./fakes/hevy";
import { deliver, drainQueue, fastBackfill, QUEUE } from "./queue-helpers";
import { stored, truth } from "./stored";
import {
  apiWorkouts, CONN, connected, connectionRow, deltaOptions, putWorkout, requestSync, sendWebhook, type SyncContext, syncRuns,
  useSyncContext, view, workoutRows,
} from "./sync-helpers";

// SPEC §11: a disconnect without purge keeps the rows; a re-connect reconciles them with Hevy
// (a delta when the events cursor still covers the gap, else a reconciling walk), another Hevy
// account's rows go first, two users may share one Hevy account, and a long 429 pause holds
// every path that would call Hevy with the key.

const DAY = 86_400_000;

interface FullView {
  status: string;
  hevy_user: { id: string; name: string };
  webhook: { status: string; url: string | null };
  backfill: { state: string; pages_done: number; page_count: number | null; workouts_synced: number };
  skipped_workouts: number;
  last_error: string | null;
}
const fullView = async (t: SyncContext, user: TestUser) => (await view(t, user)) as unknown as FullView;

/** A cron step as src/index.ts runs it: once per database that holds users' rows (the directory, then each shard). */
async function cronStep(t: SyncContext, step: (deps: Deps) => Promise<unknown>) {
  const deps = await createDeps(t.env);
  for (const { shard } of dataDatabases(deps)) await step(forShard(deps, shard));
}

async function disconnect(t: SyncContext, user: TestUser, purge = false) {
  expect((await t.request(`${CONN}${purge ? "?purge=true" : ""}`, { method: "DELETE", token: user.token })).status).toBe(204);
}

async function connect(t: SyncContext, user: TestUser, apiKey: string) {
  const res = await t.request(CONN, { method: "PUT", token: user.token, json: { api_key: apiKey } });
  expect(res.status).toBe(202);
}

/** Requests to the workout list itself (a walk), not to /events, /count or /{id}. */
const listRequests = (t: SyncContext) => t.hevy.requests.filter((r) => r.path === "/v1/workouts");
const liveIds = async (t: SyncContext, user: TestUser) => (await apiWorkouts(t, user)).map((w) => w.id).sort();
const hevyIds = (t: SyncContext, apiKey: string) => t.hevy.listWorkouts(apiKey).map((w) => w.id).sort();

/** What GET /api/v1/hevy/summary must total for these workouts (SPEC §7: volume over non-warm-up sets with weight and reps). */
function expectedTotals(workouts: HevyWorkout[]) {
  let sets = 0;
  let volume = 0;
  for (const w of workouts) for (const e of w.exercises) for (const s of e.sets) {
    sets++;
    if (s.type !== "warmup" && s.weight_kg !== null && s.reps !== null) volume += s.weight_kg * s.reps;
  }
  return { workouts: workouts.length, sets, volume };
}

async function expectMetricsOf(t: SyncContext, user: TestUser, workouts: HevyWorkout[]) {
  const res = await t.request("/api/v1/hevy/summary?weeks=104", { token: user.token });
  expect(res.status).toBe(200);
  const { totals } = (await res.json()) as { totals: { workouts: number; sets: number; volume_kg: number } };
  const want = expectedTotals(workouts);
  expect({ workouts: totals.workouts, sets: totals.sets }).toEqual({ workouts: want.workouts, sets: want.sets });
  expect(totals.volume_kg).toBeCloseTo(want.volume, 6);
}

/** A monotonic clock for the queue consumer: every read is a new millisecond. */
function consumerClock() {
  let clock = Date.now();
  return () => (clock = Math.max(clock + 1, Date.now()));
}

/** While disconnected the user deletes 3 workouts, edits 2 and adds 1 in Hevy. */
function changeWhileAway(t: SyncContext, apiKey: string) {
  const list = t.hevy.listWorkouts(apiKey);
  const deleted = list.slice(0, 3).map((w) => w.id);
  for (const id of deleted) t.hevy.deleteWorkout(apiKey, id);
  const edited = list.slice(3, 5).map((w, i) =>
    putWorkout(t, apiKey, { id: w.id, start_time: w.start_time, end_time: w.end_time, title: `Edited ${i}`, weight: 150 + i }));
  const added = putWorkout(t, apiKey, { title: "Added while away" });
  return { deleted, edited, added };
}

describe("re-connecting after a disconnect without purge", () => {
  const t = useSyncContext();

  // Today's main: a disconnect deleted the connection row, so a re-connect ran a second full backfill that never removed the 3 workouts deleted meanwhile.
  it("same account, recent cursor: a delta from the cursor (no walk of the list) applies deletions and edits made while away", async () => {
    const { user, apiKey } = await connected(t, 12);
    const cursor = (await connectionRow(user.id))!.events_cursor as number;
    await disconnect(t, user);
    expect(await connectionRow(user.id)).toMatchObject({ status: "disconnected", events_cursor: cursor, api_key_envelope: null });
    const { deleted, edited, added } = changeWhileAway(t, apiKey);

    t.hevy.requests.length = 0;
    await connect(t, user, t.hevy.issueKey(apiKey)); // a new key for the same Hevy account
    const drained = await drainQueue(t, deltaOptions({ deps: { now: consumerClock() } }));
    expect(drained.delivered.map((d) => d.body.type)).toEqual(["delta"]);
    expect(listRequests(t)).toEqual([]);
    expect(t.hevy.requests.filter((r) => r.path === "/v1/workouts/events").length).toBeGreaterThan(0);
    expect(await syncRuns(user.id, "backfill")).toHaveLength(1); // only the first connection's

    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    expect(await liveIds(t, user)).toEqual(hevyIds(t, apiKey));
    for (const id of deleted) expect((await t.request(`/api/v1/workouts/hevy/${id}`, { token: user.token })).status).toBe(404);
    const listed = await apiWorkouts(t, user);
    for (const e of edited) expect(listed.find((w) => w.id === e.id)).toMatchObject({ title: e.title, updated_at: e.updated_at });
    expect(listed.map((w) => w.id)).toContain(added.id);
    await expectMetricsOf(t, user, t.hevy.listWorkouts(apiKey));
    expect(await fullView(t, user)).toMatchObject({ status: "active", backfill: { state: "done" }, last_error: null });
  });

  // Today's main: the re-connect ran a plain full backfill: workouts deleted while away stayed live, since a walk never removes anything.
  it("same account, cursor 40 days old: a reconciling walk; live rows equal Hevy's and a workout that shifted pages is never removed", async () => {
    const { user, apiKey } = await connected(t, 25);
    await disconnect(t, user);
    await (await dbOf(user.id)).prepare("UPDATE hevy_connections SET events_cursor = ? WHERE user_id = ?").bind(Date.now() - 40 * DAY, user.id).run();
    const { deleted, edited, added } = changeWhileAway(t, apiKey);

    // During every walk, right after page 1 is answered, the user deletes its last workout in Hevy:
    // the first workout of page 2 moves onto page 1, already read, so that walk never sees it.
    const deletedDuringWalk: string[] = [];
    const shifted: string[] = [];
    t.around(async (_req, url, next) => {
      const res = await next();
      if (url.pathname === "/v1/workouts" && url.searchParams.get("page") === "1" && res.status === 200 && deletedDuringWalk.length < 5) {
        const list = t.hevy.listWorkouts(apiKey);
        deletedDuringWalk.push(list[9]!.id);
        shifted.push(list[10]!.id);
        t.hevy.deleteWorkout(apiKey, list[9]!.id);
      }
      return res;
    });

    t.hevy.requests.length = 0;
    await connect(t, user, apiKey);
    const drained = await drainQueue(t, { backfill: fastBackfill(), deps: { now: consumerClock() } });
    expect(drained.deadLettered).toEqual([]);
    expect(listRequests(t).length).toBeGreaterThan(0); // a walk ran
    expect(deletedDuringWalk.length).toBeGreaterThan(0);
    expect((await fullView(t, user)).backfill.state).toBe("done");
    const backfills = await syncRuns(user.id, "backfill");
    expect(backfills.at(-1)!.outcome).toBe("ok");

    // Never removed: every workout Hevy still has is live, field for field.
    const live = await stored(user.id);
    const want = truth(t.hevy.listWorkouts(apiKey));
    for (const w of want) expect(live.find((l) => l.id === w.id)).toEqual(w);
    for (const id of hevyIds(t, apiKey)) expect((await workoutRows(user.id, id))[0]!.deleted_at).toBeNull();
    // The last walk never saw the workout that shifted onto page 1 (still in Hevy): it was asked for by id, found, and kept.
    expect(hevyIds(t, apiKey)).toContain(shifted.at(-1));
    expect(live.map((l) => l.id)).toContain(shifted.at(-1));
    expect(t.hevy.requests.filter((r) => r.path === `/v1/workouts/${shifted.at(-1)}`).map((r) => r.status)).toEqual([200]);
    // Removed: what was deleted while away. Extra live rows can only be deletions of the last walk, seen before they happened.
    for (const id of deleted) expect(live.map((l) => l.id)).not.toContain(id);
    for (const l of live) if (!want.some((w) => w.id === l.id)) expect(deletedDuringWalk).toContain(l.id);
    const listed = await apiWorkouts(t, user);
    for (const e of edited) expect(listed.find((w) => w.id === e.id)).toMatchObject({ title: e.title, updated_at: e.updated_at });
    expect(listed.map((w) => w.id)).toContain(added.id);

    // The next delta (from the cursor the walk set) brings the deletions made during the walk.
    await requestSync(t, user);
    await drainQueue(t, deltaOptions());
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    expect(await liveIds(t, user)).toEqual(hevyIds(t, apiKey));
    await expectMetricsOf(t, user, t.hevy.listWorkouts(apiKey));
  });

  // Today's main: the disconnect deleted the row, so connecting another Hevy account purged nothing: both accounts' workouts were mixed.
  it("a different Hevy account after a disconnect without purge: only the new account's workouts remain", async () => {
    const { user, apiKey: first } = await connected(t, 6);
    await disconnect(t, user);
    const second = t.hevy.createAccount();
    t.hevy.generateHistory(second.apiKey, 4, { seed: 77, end: new Date(Date.now() - DAY) });

    await connect(t, user, second.apiKey);
    const drained = await drainQueue(t, { backfill: fastBackfill() });
    expect(drained.deadLettered).toEqual([]);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(second.apiKey)));
    expect(await liveIds(t, user)).toEqual(hevyIds(t, second.apiKey));
    for (const id of hevyIds(t, first)) expect(await workoutRows(user.id, id)).toEqual([]);
    await expectMetricsOf(t, user, t.hevy.listWorkouts(second.apiKey));
    expect(await fullView(t, user)).toMatchObject({ hevy_user: { id: second.userId }, backfill: { state: "done", workouts_synced: 4 } });
  });

  // Today's main: had no skipped records at all (the page failed); guards that the other account's skipped notes go with its rows and never show on the new account.
  it("a different Hevy account: the other account's skipped workouts are not counted or named on the new one", async () => {
    const user = await createUser(t);
    const first = t.hevy.createAccount();
    t.hevy.generateHistory(first.apiKey, 3, { seed: 78, end: new Date(Date.now() - DAY) });
    const bad = putWorkout(t, first.apiKey, { title: "Soon broken" });
    t.hevy.putRawWorkout(first.apiKey, { ...bad, start_time: "not a time" });
    await connect(t, user, first.apiKey);
    await drainQueue(t, { backfill: fastBackfill() });
    expect((await fullView(t, user)).skipped_workouts).toBe(1);
    await disconnect(t, user);

    const second = t.hevy.createAccount();
    t.hevy.generateHistory(second.apiKey, 2, { seed: 79, end: new Date(Date.now() - DAY) });
    await connect(t, user, second.apiKey);
    await drainQueue(t, { backfill: fastBackfill() });
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(second.apiKey)));
    const v = await fullView(t, user);
    expect({ skipped: v.skipped_workouts, last_error: v.last_error }).toEqual({ skipped: 0, last_error: null });
  });

  // Today's main: had no skipped records at all; guards that a purge also deletes them (SPEC §11: no Hevy row of the user left behind).
  it("a purge leaves no skipped-workout row of the user behind", async () => {
    const user = await createUser(t);
    const { apiKey } = t.hevy.createAccount();
    const bad = putWorkout(t, apiKey, { title: "Soon broken" });
    t.hevy.putRawWorkout(apiKey, { ...bad, start_time: "not a time" });
    await connect(t, user, apiKey);
    await drainQueue(t, { backfill: fastBackfill() });
    expect((await fullView(t, user)).skipped_workouts).toBe(1);
    await disconnect(t, user, true);
    const left = await (await dbOf(user.id)).prepare("SELECT count(*) AS n FROM hevy_skipped_workouts WHERE user_id = ?").bind(user.id).first<{ n: number }>();
    expect(left!.n).toBe(0);
  });

  // Today's main: with no connection row, a connect never purged nor reconciled: the other account's rows stayed live beside the new ones.
  it("no connection row but rows left (a legacy disconnect), another account: the other account's rows are removed", async () => {
    const { user, apiKey: first } = await connected(t, 6);
    await (await dbOf(user.id)).prepare("DELETE FROM hevy_connections WHERE user_id = ?").bind(user.id).run();
    const second = t.hevy.createAccount();
    t.hevy.generateHistory(second.apiKey, 4, { seed: 80, end: new Date(Date.now() - DAY) });

    await connect(t, user, second.apiKey);
    const drained = await drainQueue(t, { backfill: fastBackfill(), deps: { now: consumerClock() } });
    expect(drained.deadLettered).toEqual([]);
    expect((await fullView(t, user)).backfill.state).toBe("done");
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(second.apiKey)));
    expect(await liveIds(t, user)).toEqual(hevyIds(t, second.apiKey));
    for (const id of hevyIds(t, first)) expect((await workoutRows(user.id, id)).every((r) => r.deleted_at !== null)).toBe(true);
    await expectMetricsOf(t, user, t.hevy.listWorkouts(second.apiKey));
  });

  // Today's main: with no connection row, the re-connect ran a plain backfill: the 2 workouts deleted in Hevy meanwhile stayed live.
  it("no connection row but rows left (a legacy disconnect), same account: its rows are kept, those Hevy deleted meanwhile go", async () => {
    const { user, apiKey } = await connected(t, 8);
    await (await dbOf(user.id)).prepare("DELETE FROM hevy_connections WHERE user_id = ?").bind(user.id).run();
    const gone = t.hevy.listWorkouts(apiKey).slice(0, 2).map((w) => w.id);
    for (const id of gone) t.hevy.deleteWorkout(apiKey, id);

    t.hevy.requests.length = 0;
    await connect(t, user, apiKey);
    const drained = await drainQueue(t, { backfill: fastBackfill(), deps: { now: consumerClock() } });
    expect(drained.deadLettered).toEqual([]);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    expect(await liveIds(t, user)).toEqual(hevyIds(t, apiKey));
    for (const id of hevyIds(t, apiKey)) expect((await workoutRows(user.id, id))[0]!.deleted_at).toBeNull();
    // Only the candidates the walk did not see were asked for by id.
    const byId = t.hevy.requests.filter((r) => /^\/v1\/workouts\/[0-9a-f-]{36}$/.test(r.path)).map((r) => r.path.split("/").pop()).sort();
    expect(byId).toEqual([...gone].sort());
  });
});

describe("two VitalTrends users on one Hevy account", () => {
  const t = useSyncContext();

  // Today's main: the first user's disconnect deleted the account's one subscription blindly, so the second user's webhook stopped.
  it("the first user's disconnect leaves the second user's subscription; the second's removes it", async () => {
    const { user: first, apiKey } = await connected(t, 3);
    const firstUrl = (await fullView(t, first)).webhook.url;
    expect(t.hevy.webhookSubscription(apiKey)!.url).toBe(firstUrl);

    const second = await createUser(t);
    const secondKey = t.hevy.issueKey(apiKey);
    await connect(t, second, secondKey);
    await drainQueue(t, { backfill: fastBackfill() });
    const secondUrl = (await fullView(t, second)).webhook.url;
    expect(secondUrl).not.toBe(firstUrl);
    expect(t.hevy.webhookSubscription(apiKey)!.url).toBe(secondUrl); // one per account: replaced

    t.hevy.requests.length = 0;
    await disconnect(t, first);
    expect(t.hevy.requests.filter((r) => r.path === "/v1/webhook-subscription").map((r) => r.method)).toEqual(["GET"]);
    expect(t.hevy.webhookSubscription(apiKey)!.url).toBe(secondUrl);
    // A delivery to it is still accepted for the second user.
    t.queue.take();
    const created = putWorkout(t, apiKey, { title: "After the first left" });
    const res = await sendWebhook(t, apiKey, created.id);
    expect(res.status).toBe(200);
    expect(t.queue.take()).toEqual([{ type: "webhook_workout", userId: second.id, workoutId: created.id, deliveryId: expect.any(String) }]);

    await disconnect(t, second);
    expect(t.hevy.webhookSubscription(apiKey)).toBeNull();
  });
});

describe("a long 429 pause", () => {
  const t = useSyncContext();

  // Today's main: the pause lived only in the redelivered message: the hourly cron, a manual sync and a re-PUT all called Hevy again at once.
  it("after Retry-After: 7200 no path calls Hevy with the key: cron fan-out and resume skip it, sync and webhooks wait it out, a re-PUT calls nobody", async () => {
    const { user, apiKey } = await connected(t, 3);
    const other = await connected(t, 2); // an unpaused control
    putWorkout(t, apiKey, { title: "New" });
    t.hevy.injectFault({ status: 429, retryAfter: "7200", path: "/v1/workouts/events" });

    await requestSync(t, user);
    const [msg] = t.queue.take();
    const before = Date.now();
    const outcome = await deliver(t, QUEUE, msg, 1, deltaOptions());
    expect(outcome.retryMessages).toHaveLength(1);
    expect(outcome.delaySeconds).toBeGreaterThanOrEqual(7200);
    expect(outcome.delaySeconds).toBeLessThan(7300);
    const pausedUntil = (await connectionRow(user.id))!.hevy_paused_until as number;
    expect(pausedUntil).toBeGreaterThanOrEqual(before + 7200 * 1000);
    expect(pausedUntil).toBeLessThan(before + 7300 * 1000);

    // Cron: the hourly fan-out sends nothing for this user (but does for the other).
    t.queue.take();
    t.hevy.requests.length = 0;
    await cronStep(t, fanOutDeltas);
    const fanned = t.queue.take();
    expect(fanned.filter((m) => m.userId === user.id)).toEqual([]);
    expect(fanned.filter((m) => m.userId === other.user.id)).toEqual([{ type: "delta", userId: other.user.id, reason: "cron" }]);

    // Cron: resuming failed backfills skips it too (both made to look failed; only the other is resumed).
    for (const id of [user.id, other.user.id]) await (await dbOf(id)).prepare("UPDATE hevy_connections SET backfill_state = 'failed' WHERE user_id = ?").bind(id).run();
    await cronStep(t, resumeBackfills);
    const resumed = t.queue.take();
    expect(resumed.filter((m) => m.userId === user.id)).toEqual([]);
    expect(resumed.filter((m) => m.userId === other.user.id)).toHaveLength(1);
    expect((await connectionRow(user.id))!.backfill_state).toBe("failed");
    await (await dbOf(user.id)).prepare("UPDATE hevy_connections SET backfill_state = 'done' WHERE user_id = ?").bind(user.id).run();

    // POST …/sync queues the delta, delayed until the pause has passed.
    const sendsBefore = t.queue.sends.length;
    await requestSync(t, user);
    const sent = t.queue.sends.slice(sendsBefore);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toEqual({ type: "delta", userId: user.id, reason: "manual" });
    expect(sent[0]!.delaySeconds).toBeGreaterThanOrEqual(7000);

    // A webhook delivery is accepted, its fetch queued with the same kind of delay.
    const created = putWorkout(t, apiKey, { title: "Via webhook" });
    expect((await sendWebhook(t, apiKey, created.id)).status).toBe(200);
    const hook = t.queue.sends.at(-1)!;
    expect(hook.body).toMatchObject({ type: "webhook_workout", userId: user.id, workoutId: created.id });
    expect(hook.delaySeconds).toBeGreaterThanOrEqual(7000);

    // A re-PUT of the same key changes nothing and calls nobody.
    t.queue.take();
    const sendsBeforePut = t.queue.sends.length;
    await connect(t, user, apiKey);
    expect(t.queue.sends.length).toBe(sendsBeforePut);
    expect((await connectionRow(user.id))!.hevy_paused_until).toBe(pausedUntil);

    // Nothing above reached Hevy with this key.
    expect(t.hevy.requests.filter((r) => r.apiKey === apiKey)).toEqual([]);
  });
});

describe("reconciling walks: an emptied account, an old unfinished backfill, a candidate Hevy keeps failing on", () => {
  const t = useSyncContext();

  // main: walk_started_at was set only when a page was stored; an emptied account stores none, so the sweep had no start to compare with and removed nothing: all 5 stayed live.
  it("same account, cursor 40 days old, every workout deleted in Hevy meanwhile: the walk still sweeps, the API lists none", async () => {
    const { user, apiKey } = await connected(t, 5);
    await disconnect(t, user);
    await (await dbOf(user.id)).prepare("UPDATE hevy_connections SET events_cursor = ? WHERE user_id = ?").bind(Date.now() - 40 * DAY, user.id).run();
    const gone = hevyIds(t, apiKey);
    for (const id of gone) t.hevy.deleteWorkout(apiKey, id);
    expect(t.hevy.listWorkouts(apiKey)).toEqual([]);

    await connect(t, user, apiKey);
    const drained = await drainQueue(t, { backfill: fastBackfill(), deps: { now: consumerClock() } });
    expect(drained.deadLettered).toEqual([]);
    expect(drained.delivered.some((d) => d.body.type === "backfill" && d.body.phase === "sweep")).toBe(true);
    expect(await apiWorkouts(t, user)).toEqual([]);
    expect(await stored(user.id)).toEqual([]);
    for (const id of gone) expect((await t.request(`/api/v1/workouts/hevy/${id}`, { token: user.token })).status).toBe(404);
    expect((await fullView(t, user)).backfill).toMatchObject({ state: "done", workouts_synced: 0 });
    expect((await syncRuns(user.id, "backfill")).at(-1)!.outcome).toBe("ok");
    await expectMetricsOf(t, user, []);
  });

  // main: an unfinished backfill was always resumed where it stopped (workouts page 3 here), however old: the 3 workouts deleted meanwhile on pages already read stayed live.
  it("same account, backfill unfinished and started 40 days ago: a reconciling walk from the templates; deletions go, every Hevy workout is live", async () => {
    const { user, apiKey } = await connected(t, 25);
    // As a backfill that stopped on a 401 after 2 of 3 pages, 40 days ago, would have left it.
    await (await dbOf(user.id)).prepare(`UPDATE hevy_connections SET status = 'needs_reconnect', backfill_state = 'failed', backfill_started_at = ?,
      backfill_pages_done = 2, backfill_page_count = 3, events_cursor = NULL WHERE user_id = ?`).bind(Date.now() - 40 * DAY, user.id).run();
    const { deleted, edited, added } = changeWhileAway(t, apiKey);

    const newKey = t.hevy.issueKey(apiKey);
    await connect(t, user, newKey);
    const queued = t.queue.take();
    expect(queued).toEqual([{ type: "backfill", userId: user.id, runId: expect.any(String), phase: "templates", page: 1 }]);
    expect(await connectionRow(user.id)).toMatchObject({ status: "active", backfill_state: "queued", backfill_pages_done: 0, backfill_reconcile: 1, backfill_pass: 1 });
    t.queue.messages.push(...queued);

    const drained = await drainQueue(t, { backfill: fastBackfill(), deps: { now: consumerClock() } });
    expect(drained.deadLettered).toEqual([]);
    expect((await fullView(t, user)).backfill.state).toBe("done");
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(newKey)));
    expect(await liveIds(t, user)).toEqual(hevyIds(t, newKey));
    for (const id of hevyIds(t, newKey)) expect((await workoutRows(user.id, id))[0]!.deleted_at).toBeNull();
    for (const id of deleted) expect((await t.request(`/api/v1/workouts/hevy/${id}`, { token: user.token })).status).toBe(404);
    const listed = await apiWorkouts(t, user);
    for (const e of edited) expect(listed.find((w) => w.id === e.id)).toMatchObject({ title: e.title, updated_at: e.updated_at });
    expect(listed.map((w) => w.id)).toContain(added.id);
    await expectMetricsOf(t, user, t.hevy.listWorkouts(newKey));
  });

  // main: a 503 on a sweep candidate's GET failed the chunk, which was retried until dead-lettered: the backfill never ended.
  it("a sweep candidate whose GET keeps failing with 503 is kept live and the backfill still ends done", async () => {
    const { user, apiKey } = await connected(t, 8);
    await disconnect(t, user);
    await (await dbOf(user.id)).prepare("UPDATE hevy_connections SET events_cursor = ? WHERE user_id = ?").bind(Date.now() - 40 * DAY, user.id).run();
    const [gone, unsure] = t.hevy.listWorkouts(apiKey);
    t.hevy.deleteWorkout(apiKey, gone!.id);
    t.hevy.deleteWorkout(apiKey, unsure!.id);
    t.hevy.injectFault({ status: 503, path: `/v1/workouts/${unsure!.id}`, times: 100 });

    t.hevy.requests.length = 0;
    await connect(t, user, apiKey);
    const drained = await drainQueue(t, { backfill: fastBackfill(), deps: { now: consumerClock() } });
    expect(drained.deadLettered).toEqual([]);
    expect(drained.delivered.every((d) => d.outcome === "ack")).toBe(true);
    expect((await fullView(t, user)).backfill.state).toBe("done");
    expect((await syncRuns(user.id, "backfill")).at(-1)!.outcome).toBe("ok");
    // The sweep did ask for it, and Hevy never answered anything but 503.
    const asked = t.hevy.requests.filter((r) => r.path === `/v1/workouts/${unsure!.id}`).map((r) => r.status);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((s) => s === 503)).toBe(true);
    // In doubt, kept; the one Hevy answered 404 for is gone; every workout Hevy has is live.
    expect((await workoutRows(user.id, unsure!.id))[0]!.deleted_at).toBeNull();
    expect((await workoutRows(user.id, gone!.id))[0]!.deleted_at).not.toBeNull();
    expect(await liveIds(t, user)).toEqual([...hevyIds(t, apiKey), unsure!.id].sort());
  });
});

describe("Hevy's pause (hevy_connections.hevy_paused_until)", () => {
  const t = useSyncContext();
  const HOUR = 3_600_000;
  const setPause = async (userId: string, until: number) =>
    (await dbOf(userId)).prepare("UPDATE hevy_connections SET hevy_paused_until = ? WHERE user_id = ?").bind(until, userId).run();

  /** Delivers `msg` for the first time while the pause (an hour) is on: acked, re-sent delayed by the rest of the pause, Hevy not called. */
  async function expectDeferred(msg: SyncMessage, options = deltaOptions()) {
    const requests = t.hevy.requests.length;
    const outcome = await deliver(t, QUEUE, msg, 1, options);
    expect(outcome.retryMessages).toEqual([]);
    expect(t.hevy.requests.length).toBe(requests);
    expect(t.queue.messages).toEqual([]);
    const delayed = t.queue.delayed.splice(0);
    expect(delayed).toEqual([{ body: msg, delaySeconds: expect.any(Number) }]);
    expect(delayed[0]!.delaySeconds).toBeGreaterThan(3500);
    expect(delayed[0]!.delaySeconds).toBeLessThanOrEqual(3600);
  }

  // main: a delta queued before the pause began (first delivery) called Hevy's events feed during the pause.
  it("a delta on its first delivery during the pause re-sends itself delayed and calls nobody; its redelivery goes ahead", async () => {
    const { user, apiKey } = await connected(t, 3);
    putWorkout(t, apiKey, { title: "New during the pause" });
    const msg: SyncMessage = { type: "delta", userId: user.id, reason: "cron" };
    await setPause(user.id, Date.now() + HOUR);

    await expectDeferred(msg);
    expect(await syncRuns(user.id, "delta")).toEqual([]);
    expect(await stored(user.id)).not.toEqual(truth(t.hevy.listWorkouts(apiKey)));

    const outcome = await deliver(t, QUEUE, msg, 2, deltaOptions());
    expect(outcome.retryMessages).toEqual([]);
    expect(t.hevy.requests.filter((r) => r.path === "/v1/workouts/events" && r.apiKey === apiKey).length).toBeGreaterThan(0);
    expect(t.queue.delayed).toEqual([]);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    expect((await syncRuns(user.id, "delta")).map((r) => r.outcome)).toEqual(["ok"]);
  });

  // main: a webhook fetch queued before the pause began called GET /v1/workouts/{id} during it.
  it("a webhook fetch on its first delivery during the pause re-sends itself delayed and calls nobody; its redelivery goes ahead", async () => {
    const { user, apiKey } = await connected(t, 3);
    const created = putWorkout(t, apiKey, { title: "Via webhook" });
    expect((await sendWebhook(t, apiKey, created.id)).status).toBe(200);
    const [msg] = t.queue.take();
    expect(msg).toMatchObject({ type: "webhook_workout", userId: user.id, workoutId: created.id });
    await setPause(user.id, Date.now() + HOUR);

    await expectDeferred(msg!);
    expect(await workoutRows(user.id, created.id)).toEqual([]);

    expect((await deliver(t, QUEUE, msg, 2, deltaOptions())).retryMessages).toEqual([]);
    expect(t.hevy.requests.filter((r) => r.path === `/v1/workouts/${created.id}`).map((r) => r.status)).toEqual([200]);
    expect((await apiWorkouts(t, user)).find((w) => w.id === created.id)).toMatchObject({ title: "Via webhook", updated_at: created.updated_at });
  });

  // main: a backfill chunk queued before the pause began read the next workout pages during it.
  it("a backfill chunk on its first delivery during the pause re-sends itself delayed, calls nobody, changes no progress; its redelivery goes ahead", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    t.hevy.generateHistory(account.apiKey, 25, { seed: 31, end: new Date(Date.now() - DAY) });
    await connect(t, user, account.apiKey);
    const options = { backfill: fastBackfill({ pagesPerChunk: 1, concurrency: 1 }) };
    let msg = t.queue.take()[0]!;
    // The templates' pages, then workouts page 1.
    for (let i = 0; i < 20 && !(msg.type === "backfill" && msg.phase === "workouts" && msg.page === 2); i++) {
      expect((await deliver(t, QUEUE, msg, 1, options)).retryMessages).toEqual([]);
      msg = t.queue.take()[0]!;
    }
    expect(msg).toMatchObject({ type: "backfill", phase: "workouts", page: 2 });
    const before = await connectionRow(user.id);
    expect(before).toMatchObject({ backfill_pages_done: 1, backfill_state: "running" });
    await setPause(user.id, Date.now() + HOUR);

    await expectDeferred(msg, options);
    const after = await connectionRow(user.id);
    expect({ done: after!.backfill_pages_done, state: after!.backfill_state, run: after!.backfill_run_id })
      .toEqual({ done: 1, state: "running", run: before!.backfill_run_id });

    expect((await deliver(t, QUEUE, msg, 2, options)).retryMessages).toEqual([]);
    expect(t.hevy.requests.some((r) => r.path === "/v1/workouts" && r.query.page === "2" && r.status === 200)).toBe(true);
    expect((await connectionRow(user.id))!.backfill_pages_done).toBe(2);
    // The pause has passed by the time the queue delivers the rest.
    await setPause(user.id, Date.now() - 1000);
    const drained = await drainQueue(t, options);
    expect(drained.deadLettered).toEqual([]);
    expect((await fullView(t, user)).backfill).toMatchObject({ state: "done", pages_done: 3, workouts_synced: 25 });
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(account.apiKey)));
  });

  // main: rotating the secret during the pause called POST /v1/webhook-subscription with the paused key.
  it("rotating the webhook secret during the pause calls nobody, the old URL answers 404 at once; the first delta after the pause subscribes the new URL", async () => {
    const { user, apiKey } = await connected(t, 3);
    const before = await fullView(t, user);
    expect(before.webhook.status).toBe("subscribed");
    const oldUrl = before.webhook.url!;
    await setPause(user.id, Date.now() + HOUR);

    t.hevy.requests.length = 0;
    const res = await t.request(`${CONN}/webhook-secret`, { method: "POST", token: user.token });
    expect(res.status).toBe(200);
    const rotated = (await res.json()) as FullView;
    expect(rotated.webhook.status).toBe("failed");
    expect(rotated.webhook.url).toMatch(/\/webhooks\/hevy\/[A-Za-z0-9_-]{32,}$/);
    expect(rotated.webhook.url).not.toBe(oldUrl);
    expect(t.hevy.requests).toEqual([]);
    expect((await fullView(t, user)).webhook).toEqual(rotated.webhook);

    // Hevy still holds the old URL: a delivery to it is refused at once.
    const early = putWorkout(t, apiKey, { title: "Sent to the old URL" });
    expect(t.hevy.webhookSubscription(apiKey)!.url).toBe(oldUrl);
    expect((await sendWebhook(t, apiKey, early.id)).status).toBe(404);
    expect(t.queue.take()).toEqual([]);
    expect(t.queue.delayed).toEqual([]);

    // The pause is over: the next delta subscribes, and deliveries to the new URL are accepted.
    await setPause(user.id, Date.now() - 1000);
    await requestSync(t, user);
    const drained = await drainQueue(t, deltaOptions());
    expect(drained.delivered.map((d) => [d.body.type, d.outcome])).toEqual([["delta", "ack"]]);
    const after = await fullView(t, user);
    expect(after.webhook.status).toBe("subscribed");
    expect(t.hevy.webhookSubscription(apiKey)!.url, "Hevy calls the URL the view shows").toBe(after.webhook.url);
    // The URL the rotation answered with is the one subscribed (webhook-subscription.ts: "the first delta after the pause subscribes it").
    expect(after.webhook.url, "the URL the rotation showed").toBe(rotated.webhook.url);
    const created = putWorkout(t, apiKey, { title: "Sent to the new URL" });
    expect((await sendWebhook(t, apiKey, created.id)).status).toBe(200);
    expect(t.queue.take()).toEqual([{ type: "webhook_workout", userId: user.id, workoutId: created.id, deliveryId: expect.any(String) }]);
  });

  // main: DELETE dropped the pause with the key, so a re-PUT during it called GET /v1/user/info (and more) with a key Hevy had paused.
  it("DELETE keeps the pause; a re-PUT of any key during it answers 503 hevy_paused with Retry-After and calls nobody; after it, the connect works", async () => {
    const { user, apiKey } = await connected(t, 3);
    const added = putWorkout(t, apiKey, { title: "Added during the pause" });
    const until = Date.now() + HOUR;
    await setPause(user.id, until);

    t.hevy.requests.length = 0;
    await disconnect(t, user);
    expect(await connectionRow(user.id)).toMatchObject({ status: "disconnected", hevy_paused_until: until });

    const other = t.hevy.createAccount();
    const sends = t.queue.sends.length;
    for (const key of [apiKey, t.hevy.issueKey(apiKey), other.apiKey]) {
      const res = await t.request(CONN, { method: "PUT", token: user.token, json: { api_key: key } });
      const retryAfter = Number(res.headers.get("retry-after"));
      await expectProblem(res, 503, "hevy_paused");
      expect(retryAfter).toBeGreaterThan(3500);
      expect(retryAfter).toBeLessThanOrEqual(3600);
    }
    expect(t.hevy.requests).toEqual([]);
    expect(t.queue.sends.length).toBe(sends);
    expect(await connectionRow(user.id)).toMatchObject({ status: "disconnected", hevy_paused_until: until, api_key_envelope: null });
    await expectProblem(await t.request(CONN, { token: user.token }), 404, "not_connected");

    // The pause is over: the same key connects normally and the delta catches up.
    await setPause(user.id, Date.now() - 1000);
    await connect(t, user, apiKey);
    expect((await connectionRow(user.id))!.hevy_paused_until).toBeNull();
    const drained = await drainQueue(t, deltaOptions());
    expect(drained.deadLettered).toEqual([]);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    expect((await apiWorkouts(t, user)).map((w) => w.id)).toContain(added.id);
    expect(await fullView(t, user)).toMatchObject({ status: "active", webhook: { status: "subscribed" }, backfill: { state: "done" } });
  });
});
