import { describe, expect, it } from "vitest";
import { createUser, dbOf, type TestUser } from "./helpers";
import type { HevyWorkout } from "./fakes/hevy";
import { drainQueue, fastBackfill } from "./queue-helpers";
import { stored, truth } from "./stored";
import {
  afterAnswer, apiWorkouts, CONN, connected, connectionRow, deltaOptions, eventRequests, putWorkout, requestSync,
  type SyncContext, syncRuns, useSyncContext, view,
} from "./sync-helpers";

// SPEC §11 "odd data": Hevy records are validated one by one, unknown enum values are kept,
// unstorable workouts are skipped (counted, named, fetched again) without blocking their page,
// a 404 inside the known page count is a glitch, duplicates in a page are stored once, and the
// delta re-reads 5 minutes before its cursor.

const HOUR = 3_600_000;
const OVERLAP = 5 * 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** The connection view with the fields these tests read. */
interface FullView {
  status: string;
  backfill: { state: string; pages_done: number; page_count: number | null; workouts_synced: number };
  skipped_workouts: number;
  last_sync_at: string | null;
  last_error: string | null;
}
const fullView = async (t: SyncContext, user: TestUser) => (await view(t, user)) as unknown as FullView;

const set = (index: number, type: string, weight_kg: number | null, reps: number | null) => ({
  index, type, weight_kg, reps, distance_meters: null, duration_seconds: null, rpe: null, custom_metric: null,
});

/** A complete, valid workout as Hevy sends it, to be broken field by field and stored verbatim (putRawWorkout). */
/** Two records Hevy lists that cannot be stored: one with an unparseable start (its id is returned) and one without an id. */
function putUnstorablePair(t: SyncContext, apiKey: string): string {
  const badId = t.hevy.putRawWorkout(apiKey, rawWorkout({ start_time: "not a time" }));
  const noId = rawWorkout();
  delete noId.id;
  t.hevy.putRawWorkout(apiKey, noId, { key: "no-id" });
  return badId;
}

function rawWorkout(over: Record<string, unknown> = {}): Record<string, unknown> {
  const start = Date.now() - 3 * HOUR;
  return {
    id: crypto.randomUUID(),
    title: "Raw",
    routine_id: null,
    description: null,
    start_time: new Date(start).toISOString().replace(/\.\d{3}Z$/, "+00:00"),
    end_time: new Date(start + HOUR).toISOString().replace(/\.\d{3}Z$/, "+00:00"),
    updated_at: new Date(start + HOUR).toISOString(),
    created_at: new Date(start + HOUR).toISOString(),
    exercises: [{ index: 0, title: "Squat (Barbell)", notes: null, exercise_template_id: "D04AC939", supersets_id: null, sets: [set(0, "normal", 60, 10)] }],
    ...over,
  };
}

/** A user who connects `apiKey` (already filled in the fake) and whose backfill runs to its end. */
async function connectAndBackfill(t: SyncContext, apiKey: string) {
  const user = await createUser(t);
  const res = await t.request(CONN, { method: "PUT", token: user.token, json: { api_key: apiKey } });
  expect(res.status).toBe(202);
  const drained = await drainQueue(t, { backfill: fastBackfill() });
  return { user, drained };
}

/** Start times an hour apart within the last day, so every workout lies in the summary's window. */
const startAt = (i: number) => iso(Date.now() - (i + 3) * HOUR);

describe("odd data from Hevy", () => {
  const t = useSyncContext();

  // Today's main: the set type was a closed enum and title required, so this whole page failed validation and the backfill never finished.
  it("stores a page with an unknown set type and a workout without a title; the unknown type counts as a working set", async () => {
    const { apiKey } = t.hevy.createAccount();
    let clusterId = "";
    let untitledId = "";
    for (let i = 0; i < 12; i++) {
      if (i === 2) {
        // The third workout of page 1: warm-up 40×10 (no volume), a "cluster" set 80×3, a normal set 100×5.
        clusterId = putWorkout(t, apiKey, {
          title: "Cluster day", start_time: startAt(i),
          exercises: [{ index: 0, title: "Bench Press (Barbell)", notes: null, exercise_template_id: "79D0BB3A", supersets_id: null,
            sets: [set(0, "warmup", 40, 10), set(1, "cluster", 80, 3), set(2, "normal", 100, 5)] as HevyWorkout["exercises"][0]["sets"] }],
        }).id;
      } else if (i === 6) {
        // No title at all: one normal set 60×10.
        const raw = rawWorkout({ start_time: startAt(i).replace(/\.\d{3}Z$/, "+00:00") });
        delete raw.title;
        untitledId = t.hevy.putRawWorkout(apiKey, raw);
      } else {
        putWorkout(t, apiKey, { title: `Plain ${i}`, start_time: startAt(i), weight: 100 }); // warm-up 40×10, normal 100×5
      }
    }
    expect(t.hevy.listWorkouts(apiKey)[2]!.id).toBe(clusterId);

    const { user, drained } = await connectAndBackfill(t, apiKey);
    expect(drained.deadLettered).toEqual([]);
    const v = await fullView(t, user);
    expect(v).toMatchObject({ status: "active", backfill: { state: "done", page_count: 2, workouts_synced: 12 }, skipped_workouts: 0, last_error: null });
    // Every field as Hevy has it; the missing title is stored as "".
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)).map((w) => (w.id === untitledId ? { ...w, title: "" } : w)));

    const listed = await apiWorkouts(t, user);
    expect(listed).toHaveLength(12);
    expect(listed.find((w) => w.id === untitledId)!.title).toBe("");
    const one = (await (await t.request(`/api/v1/workouts/hevy/${clusterId}`, { token: user.token })).json()) as {
      exercises: Array<{ sets: Array<{ type: string; weight_kg: number; reps: number }> }>;
    };
    expect(one.exercises[0]!.sets.map((s) => s.type)).toEqual(["warmup", "cluster", "normal"]);

    // By hand: 10 plain workouts × 100·5 = 5000; cluster day 80·3 + 100·5 = 740 (its warm-up adds nothing);
    // the untitled one 60·10 = 600. Total 6340 (6100 if the cluster set were not a working set).
    // Sets, warm-ups included: 10 × 2 + 3 + 1 = 24.
    const summary = (await (await t.request("/api/v1/hevy/summary?weeks=4", { token: user.token })).json()) as {
      totals: { workouts: number; sets: number; volume_kg: number };
    };
    expect(summary.totals).toEqual({ workouts: 12, sets: 24, volume_kg: 6340 });
  });

  // Today's main: one workout with a bad start_time or no id failed the whole page (transient error), so the backfill never finished and no workout of that page was stored.
  it("skips a workout with an unparseable time and one without an id, stores the rest of the page, and stores the first once Hevy serves it well", async () => {
    const { apiKey } = t.hevy.createAccount();
    t.hevy.generateHistory(apiKey, 6, { seed: 3, end: new Date(Date.now() - 86_400_000) });
    const badId = putUnstorablePair(t, apiKey);
    t.hevy.generateHistory(apiKey, 4, { seed: 4, end: new Date(Date.now() - 86_400_000) }); // the page goes on after them
    const good = t.hevy.listWorkouts(apiKey).filter((w) => typeof w.id === "string" && w.id !== badId);
    expect(good).toHaveLength(10);

    const { user } = await connectAndBackfill(t, apiKey);
    const v = await fullView(t, user);
    expect(v.backfill).toMatchObject({ state: "done", workouts_synced: 10 });
    expect(v.skipped_workouts).toBe(2);
    expect(v.last_error).toContain(badId);
    expect(await stored(user.id)).toEqual(truth(good));
    expect((await apiWorkouts(t, user)).map((w) => w.id).sort()).toEqual(good.map((w) => w.id).sort());
    expect((await t.request(`/api/v1/workouts/hevy/${badId}`, { token: user.token })).status).toBe(404);

    // Hevy now serves it well (same id, a valid start): the next delta stores it.
    const fixed = putWorkout(t, apiKey, { id: badId, title: "Fixed", start_time: startAt(0) });
    await requestSync(t, user);
    const drained = await drainQueue(t, deltaOptions());
    expect(drained.deadLettered).toEqual([]);
    expect((await apiWorkouts(t, user)).find((w) => w.id === badId)).toMatchObject({ title: "Fixed", updated_at: fixed.updated_at });
    expect(await stored(user.id)).toEqual(truth([...good, fixed]));
    const after = await fullView(t, user);
    // The record without an id is still in Hevy, still unstorable: it alone is left, and last_error names it, not the fixed one.
    expect(after.skipped_workouts).toBe(1);
    expect(after.last_error).not.toContain(badId);
    expect(after.last_error).toContain("unidentified:");
  });

  // Today's main: same whole-page failure as above (no skipping at all). Here the record without an id is gone from Hevy too.
  it("forgets a skipped record without an id once Hevy no longer lists it: skipped_workouts 0 and last_error null after a full walk", async () => {
    const { apiKey } = t.hevy.createAccount();
    t.hevy.generateHistory(apiKey, 4, { seed: 5, end: new Date(Date.now() - 86_400_000) });
    const badId = putUnstorablePair(t, apiKey);
    const { user } = await connectAndBackfill(t, apiKey);
    expect((await fullView(t, user)).skipped_workouts).toBe(2);

    // Hevy serves the first well and no longer has the second.
    putWorkout(t, apiKey, { id: badId, title: "Fixed", start_time: startAt(0) });
    t.hevy.deleteWorkout(apiKey, "no-id");
    await requestSync(t, user);
    await drainQueue(t, deltaOptions());
    // A delta cannot see that a record without an id disappeared; a full walk of the list can.
    // Re-connect after a long absence (cursor 40 days old) → a reconciling walk that no longer meets it.
    expect((await t.request(CONN, { method: "DELETE", token: user.token })).status).toBe(204);
    await (await dbOf(user.id)).prepare("UPDATE hevy_connections SET events_cursor = ? WHERE user_id = ?").bind(Date.now() - 40 * 86_400_000, user.id).run();
    expect((await t.request(CONN, { method: "PUT", token: user.token, json: { api_key: apiKey } })).status).toBe(202);
    await drainQueue(t, deltaOptions());
    await requestSync(t, user);
    await drainQueue(t, deltaOptions());

    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    const v = await fullView(t, user);
    expect(v.backfill.state).toBe("done");
    expect({ skipped: v.skipped_workouts, last_error: v.last_error }).toEqual({ skipped: 0, last_error: null });
  });

  // Today's main: an unparseable event failed the whole events page, so the delta retried until dead-lettered and the cursor never moved: every later edit was blocked.
  it("in the events feed: skips the bad events, stores the good ones around them and still advances the cursor past them", async () => {
    const { user, apiKey } = await connected(t, 3);
    const before = putWorkout(t, apiKey, { title: "Before" });
    const badId = putUnstorablePair(t, apiKey);
    const afterBad = putWorkout(t, apiKey, { title: "After" });
    // The fake's clock is strictly increasing: the bad events lie between "Before" and "After".
    expect(Date.parse(afterBad.updated_at)).toBeGreaterThan(Date.parse(before.updated_at) + 1);
    const cursorBefore = (await connectionRow(user.id))!.events_cursor as number;

    await requestSync(t, user);
    const drained = await drainQueue(t, deltaOptions());
    expect(drained.delivered.map((d) => d.outcome)).toEqual(["ack"]);
    const good = t.hevy.listWorkouts(apiKey).filter((w) => typeof w.id === "string" && w.id !== badId);
    expect(await stored(user.id)).toEqual(truth(good));
    const row = (await connectionRow(user.id))!;
    expect(row.events_cursor).toBe(Date.parse(afterBad.updated_at));
    expect(row.events_cursor).toBeGreaterThan(cursorBefore);
    const v = await fullView(t, user);
    expect(v.skipped_workouts).toBe(2);
    expect(v.last_error).toContain(badId);
    expect((await syncRuns(user.id, "delta")).map((r) => r.outcome)).toEqual(["ok"]);

    // The next delta reads from the advanced cursor; once Hevy serves the workout well it is stored.
    const fixed = putWorkout(t, apiKey, { id: badId, title: "Fixed", start_time: startAt(0) });
    t.hevy.requests.length = 0;
    await requestSync(t, user);
    await drainQueue(t, deltaOptions());
    expect(eventRequests(t)[0]!.query.since).toBe(iso(Date.parse(afterBad.updated_at) - OVERLAP));
    expect(await stored(user.id)).toEqual(truth([...good, fixed]));
    const after = await fullView(t, user);
    expect(after.skipped_workouts).toBe(1); // the record without an id, still in Hevy's feed
    expect(after.last_error).not.toContain(badId);
  });

  // Today's main: any 404 on a workouts page was taken as the end of the list: page 3's 10 workouts were never stored, yet the backfill reported done (35 of 45).
  it("a 404 on a page inside the known page count is a glitch: every workout arrives and the counts are right", async () => {
    const { apiKey } = t.hevy.createAccount();
    t.hevy.generateHistory(apiKey, 45, { seed: 9, end: new Date(Date.now() - 86_400_000) });
    t.hevy.injectFault({ status: 404, path: "/v1/workouts", query: { page: "3" }, times: 1 });

    const { user, drained } = await connectAndBackfill(t, apiKey);
    expect(drained.deadLettered).toEqual([]);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    expect((await fullView(t, user)).backfill).toEqual({ state: "done", pages_done: 5, page_count: 5, workouts_synced: 45 });
    // Page 3 answered 404 once, the count was re-read, page 3 was asked again and answered.
    const page3 = t.hevy.requests.filter((r) => r.path === "/v1/workouts" && r.query.page === "3").map((r) => r.status);
    expect(page3).toEqual([404, 200]);
    expect(t.hevy.requests.filter((r) => r.path === "/v1/workouts/count")).toHaveLength(1);
    expect((await syncRuns(user.id, "backfill")).map((r) => r.outcome)).toEqual(["ok"]);
  });

  // Today's main: handled this case too (any 404 ended the walk); kept so the glitch rule above never turns a real end into an endless retry.
  it("a history that really shrank during the walk ends cleanly: no endless retry, the walk ends at the new last page", async () => {
    const { apiKey } = t.hevy.createAccount();
    t.hevy.generateHistory(apiKey, 45, { seed: 10, end: new Date(Date.now() - 86_400_000) });
    const listed = t.hevy.listWorkouts(apiKey);
    // Right after page 2 is answered, the user deletes the 25 workouts of pages 3–5: 20 are left, 2 pages.
    afterAnswer(t, (url) => url.pathname === "/v1/workouts" && url.searchParams.get("page") === "2", () => {
      for (const w of listed.slice(20)) t.hevy.deleteWorkout(apiKey, w.id);
    });
    const user = await createUser(t);
    expect((await t.request(CONN, { method: "PUT", token: user.token, json: { api_key: apiKey } })).status).toBe(202);
    const drained = await drainQueue(t, { backfill: fastBackfill({ concurrency: 1 }) }, 50);

    expect(drained.delivered.every((d) => d.outcome === "ack")).toBe(true);
    expect(drained.deadLettered).toEqual([]);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    expect((await fullView(t, user)).backfill).toEqual({ state: "done", pages_done: 2, page_count: 2, workouts_synced: 20 });
    // Bounded work: a few walks of 2 pages, the 404s past the new end, one or two count reads.
    expect(t.hevy.requests.filter((r) => r.path === "/v1/workouts").length).toBeLessThan(15);
    expect(t.hevy.requests.filter((r) => r.path === "/v1/workouts/count").length).toBeLessThanOrEqual(3);
    expect((await syncRuns(user.id, "backfill")).map((r) => r.outcome)).toEqual(["ok"]);
  });

  // Today's main: both copies' exercises and sets were inserted in one batch, a UNIQUE constraint failed, and the page never stored (retried until dead-lettered).
  it("the same workout twice in one backfill page (two versions) is stored once, the later version, whichever comes first", async () => {
    const { apiKey } = t.hevy.createAccount();
    t.hevy.generateHistory(apiKey, 15, { seed: 11, end: new Date(Date.now() - 86_400_000) });
    const stale = (w: HevyWorkout): HevyWorkout => ({
      ...w, title: "Stale copy", updated_at: iso(Date.parse(w.updated_at) - HOUR),
      exercises: [{ ...w.exercises[0]!, title: "Stale exercise", sets: [set(0, "normal", 999, 1) as HevyWorkout["exercises"][0]["sets"][0]] }],
    });
    t.around(async (_req, url, next) => {
      const res = await next();
      if (url.pathname !== "/v1/workouts" || url.searchParams.get("page") !== "1" || res.status !== 200) return res;
      const body = (await res.json()) as { workouts: HevyWorkout[] };
      const [x, y] = body.workouts;
      // x: the current version first, a stale one later; y: a stale one first, the current version later.
      body.workouts = [stale(y!), ...body.workouts, stale(x!)];
      return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
    });

    const { user, drained } = await connectAndBackfill(t, apiKey);
    expect(drained.deadLettered).toEqual([]);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    expect((await fullView(t, user)).backfill).toMatchObject({ state: "done", workouts_synced: 15 });
    expect((await apiWorkouts(t, user)).filter((w) => w.title === "Stale copy")).toEqual([]);
  });

  // Today's main: same UNIQUE-constraint failure in a delta batch: the run failed and the cursor never moved.
  it("the same workout twice in one events page is stored once, the later version", async () => {
    const { user, apiKey } = await connected(t, 3);
    const [a] = t.hevy.listWorkouts(apiKey);
    const edited = putWorkout(t, apiKey, { id: a!.id, start_time: a!.start_time, end_time: a!.end_time, title: "Edited", weight: 130 });
    t.around(async (_req, url, next) => {
      const res = await next();
      if (url.pathname !== "/v1/workouts/events" || res.status !== 200) return res;
      const body = (await res.json()) as { events: Array<{ type: string; workout?: HevyWorkout }> };
      const current = body.events.find((e) => e.workout?.id === a!.id);
      if (current) {
        // An older version of the same workout after the current one (and so also before it in time).
        const older = { ...current.workout!, title: "Stale copy", updated_at: iso(Date.parse(edited.updated_at) - 1000) };
        body.events.push({ type: "updated", workout: older });
      }
      return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
    });
    await requestSync(t, user);
    const drained = await drainQueue(t, deltaOptions());
    expect(drained.delivered.map((d) => d.outcome)).toEqual(["ack"]);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    expect((await apiWorkouts(t, user)).find((w) => w.id === a!.id)).toMatchObject({ title: "Edited", updated_at: edited.updated_at });
    expect((await connectionRow(user.id))!.events_cursor).toBe(Date.parse(edited.updated_at));
  });

  // Today's main: the delta asked for events since the cursor itself, so an event Hevy committed late (time before the cursor) was never read.
  it("a late-committed event, timed a minute before the advanced cursor, is stored by the next delta", async () => {
    const { user, apiKey } = await connected(t, 3);
    const latest = putWorkout(t, apiKey, { title: "Latest" });
    await requestSync(t, user);
    await drainQueue(t, deltaOptions());
    const cursor = (await connectionRow(user.id))!.events_cursor as number;
    expect(cursor).toBe(Date.parse(latest.updated_at));

    // Hevy commits a change whose time lies a minute before events already served.
    const start = Date.now() - 5 * HOUR;
    const late = t.hevy.putWorkout(apiKey, {
      title: "Committed late", start_time: iso(start), end_time: iso(start + HOUR),
      exercises: [{ index: 0, title: "Deadlift (Barbell)", notes: null, exercise_template_id: "C6272009", supersets_id: null, sets: [set(0, "normal", 180, 3) as HevyWorkout["exercises"][0]["sets"][0]] }],
    }, { updatedAt: new Date(cursor - 60_000) });
    t.hevy.requests.length = 0;
    await requestSync(t, user);
    await drainQueue(t, deltaOptions());

    expect(eventRequests(t)[0]!.query.since).toBe(iso(cursor - OVERLAP));
    expect((await apiWorkouts(t, user)).find((w) => w.id === late.id)).toMatchObject({ title: "Committed late", updated_at: late.updated_at });
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    // The cursor never moves backwards for it.
    expect((await connectionRow(user.id))!.events_cursor).toBe(cursor);
  });
});

describe("a skipped workout Hevy keeps failing on", () => {
  const t = useSyncContext();

  // main: retrySkipped let the 503 of the skipped workout's re-fetch fail the whole delta: retried until dead-lettered, the cursor never moved past the new events.
  it("its re-fetch failing with 503 does not fail the delta: the run is ok, new events are stored, the cursor advances, it stays counted", async () => {
    const { apiKey } = t.hevy.createAccount();
    t.hevy.generateHistory(apiKey, 4, { seed: 12, end: new Date(Date.now() - 86_400_000) });
    const badId = t.hevy.putRawWorkout(apiKey, rawWorkout({ start_time: "not a time" }));
    const { user } = await connectAndBackfill(t, apiKey);
    expect((await fullView(t, user)).skipped_workouts).toBe(1);
    const cursorBefore = (await connectionRow(user.id))!.events_cursor as number;

    t.hevy.injectFault({ status: 503, path: `/v1/workouts/${badId}`, times: 100 });
    const added = putWorkout(t, apiKey, { title: "Added after the backfill", start_time: startAt(0) });
    t.hevy.requests.length = 0;
    await requestSync(t, user);
    const drained = await drainQueue(t, deltaOptions());

    expect(drained.delivered.map((d) => [d.body.type, d.outcome])).toEqual([["delta", "ack"]]);
    expect(drained.deadLettered).toEqual([]);
    // The re-fetch was tried, and Hevy answered nothing but 503.
    const refetch = t.hevy.requests.filter((r) => r.path === `/v1/workouts/${badId}`).map((r) => r.status);
    expect(refetch.length).toBeGreaterThan(0);
    expect(refetch.every((s) => s === 503)).toBe(true);
    expect((await syncRuns(user.id, "delta")).map((r) => r.outcome)).toEqual(["ok"]);
    const row = (await connectionRow(user.id))!;
    expect(row.events_cursor).toBe(Date.parse(added.updated_at));
    expect(row.events_cursor).toBeGreaterThan(cursorBefore);
    expect((await apiWorkouts(t, user)).find((w) => w.id === added.id)).toMatchObject({ title: added.title, updated_at: added.updated_at });
    const good = t.hevy.listWorkouts(apiKey).filter((w) => w.id !== badId);
    expect(await stored(user.id)).toEqual(truth(good));
    const v = await fullView(t, user);
    expect(v.skipped_workouts).toBe(1);
    expect(v.last_error).toContain(badId);
    expect(v.status).toBe("active");
  });
});
