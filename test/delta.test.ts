import { describe, expect, it } from "vitest";
import type { SyncMessage } from "../src/queue/messages";
import { dbOf, shardOf } from "./helpers";
import { deliver, drainQueue, QUEUE } from "./queue-helpers";
import { stored, truth } from "./stored";
import {
  afterAnswer, apiWorkouts, connected, connectionRow, deltaOptions, eventRequests, failMatching, isEventsPage, putWorkout,
  requestSync, sendWebhook, syncRuns, useSyncContext, view, workoutRows,
} from "./sync-helpers";

const HOUR = 3_600_000;
/** SPEC §11: a delta reads the feed from 5 minutes before its cursor (late-committed events). */
const OVERLAP = 5 * 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe("delta sync from Hevy's events feed", () => {
  const t = useSyncContext();

  it("upserts edits and new workouts, tombstones deletions, advances the cursor to the newest event and records the run", async () => {
    const { user, apiKey } = await connected(t, 12);
    const cursorBefore = (await connectionRow(user.id))!.events_cursor as number;
    const [a, b] = t.hevy.listWorkouts(apiKey);
    const edited = putWorkout(t, apiKey, { id: a!.id, start_time: a!.start_time, end_time: a!.end_time, title: "Edited", weight: 140 });
    t.hevy.deleteWorkout(apiKey, b!.id);
    const created = putWorkout(t, apiKey, { title: "Brand new" });
    t.hevy.requests.length = 0;

    // The next hourly run, an hour after the backfill, on a clock that moves.
    let clock = Date.now() + HOUR;
    const nextHour = clock;
    await requestSync(t, user);
    await drainQueue(t, deltaOptions({ deps: { now: () => (clock += 5) } }));

    // Only the events feed, from the cursor less the overlap, pageSize 10; 3 events fit on page 1.
    expect(t.hevy.requests.map((r) => [r.path, r.query])).toEqual([
      ["/v1/workouts/events", { since: iso(cursorBefore - OVERLAP), page: "1", pageSize: "10" }],
    ]);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    const tombstone = await workoutRows(user.id, b!.id);
    expect(tombstone).toHaveLength(1);
    expect(tombstone[0]!.deleted_at).toBeGreaterThan(Date.parse(edited.updated_at));

    // What the user reads: the edit, the new workout, not the deleted one.
    const listed = await apiWorkouts(t, user);
    expect(listed.map((w) => w.id).sort()).toEqual(t.hevy.listWorkouts(apiKey).map((w) => w.id).sort());
    expect(listed.find((w) => w.id === a!.id)).toMatchObject({ title: "Edited", updated_at: edited.updated_at });
    expect((await t.request(`/api/v1/workouts/hevy/${b!.id}`, { token: user.token })).status).toBe(404);

    const row = (await connectionRow(user.id))!;
    expect(row.events_cursor).toBe(Date.parse(created.updated_at));
    const v = await view(t, user);
    expect(Date.parse(v.last_sync_at!)).toBeGreaterThanOrEqual(nextHour);
    expect(v.last_error).toBeNull();
    const [run, ...more] = await syncRuns(user.id, "delta");
    expect(more).toEqual([]);
    expect(run).toMatchObject({ outcome: "ok", upserts: 2, deletes: 1, hevy_requests: 1, error: null });
    expect(run!.finished_at).toBeGreaterThan(run!.started_at);
  });

  it("a run with nothing new reads one page from the advanced cursor and changes nothing", async () => {
    const { user, apiKey } = await connected(t, 3);
    const latest = putWorkout(t, apiKey, { title: "Latest" });
    await requestSync(t, user);
    await drainQueue(t, deltaOptions());
    const before = await stored(user.id);
    t.hevy.requests.length = 0;

    await requestSync(t, user);
    await drainQueue(t, deltaOptions());
    expect(t.hevy.requests.map((r) => r.query)).toEqual([{ since: iso(Date.parse(latest.updated_at) - OVERLAP), page: "1", pageSize: "10" }]);
    expect(await stored(user.id)).toEqual(before);
    expect((await connectionRow(user.id))!.events_cursor).toBe(Date.parse(latest.updated_at));
    expect((await syncRuns(user.id, "delta")).map((r) => [r.outcome, r.upserts, r.deletes])).toEqual([["ok", 1, 0], ["ok", 0, 0]]);
  });

  it("keeps a month of sync runs: a delta prunes its user's older rows, and only theirs", async () => {
    const { user } = await connected(t, 2);
    // Two others: consecutive users land on different shards, so one of them shares the user's database.
    const others = [await connected(t, 2), await connected(t, 2)];
    expect(await Promise.all(others.map((o) => shardOf(o.user.id)))).toContain(await shardOf(user.id));
    const old = Date.now() - 31 * 86_400_000;
    const recent = Date.now() - 29 * 86_400_000;
    for (const [u, startedAt] of [[user, old], [user, recent], ...others.map((o) => [o.user, old] as const)] as const) {
      await (await dbOf(u.id)).prepare("INSERT INTO sync_runs (id, user_id, kind, outcome, started_at) VALUES (?, ?, 'delta', 'ok', ?)")
        .bind(crypto.randomUUID(), u.id, startedAt)
        .run();
    }
    await requestSync(t, user);
    await drainQueue(t, deltaOptions());
    const starts = async (id: string) =>
      (await (await dbOf(id)).prepare("SELECT started_at FROM sync_runs WHERE user_id = ? AND kind = 'delta' ORDER BY started_at").bind(id).all<{ started_at: number }>()).results.map((r) => r.started_at);
    const mine = await starts(user.id);
    expect(mine).not.toContain(old);
    expect(mine).toContain(recent);
    expect(mine).toHaveLength(2); // the 29-day-old row and this run
    for (const other of others) expect(await starts(other.user.id)).toEqual([old]); // pruned only when their own delta runs
  });

  it("reads every page of a long feed exactly once and stores all of it", async () => {
    const { user, apiKey } = await connected(t, 30);
    const history = t.hevy.listWorkouts(apiKey);
    for (const w of history.slice(0, 17)) putWorkout(t, apiKey, { id: w.id, start_time: w.start_time, end_time: w.end_time, title: `${w.title} (edited)` });
    for (const w of history.slice(17, 21)) t.hevy.deleteWorkout(apiKey, w.id);
    for (let i = 0; i < 4; i++) putWorkout(t, apiKey, { title: `New ${i}` });
    t.hevy.requests.length = 0;

    await requestSync(t, user);
    await drainQueue(t, deltaOptions());
    const pages = eventRequests(t).map((r) => Number(r.query.page)).sort();
    expect(pages).toEqual([1, 2, 3]); // 25 events
    expect(eventRequests(t).every((r) => r.query.pageSize === "10")).toBe(true);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    expect((await syncRuns(user.id, "delta"))[0]).toMatchObject({ outcome: "ok", upserts: 21, deletes: 4, hevy_requests: 3 });
  });

  it("a workout created and deleted within the hour leaves only a tombstone, and its late webhook stores nothing", async () => {
    const { user, apiKey } = await connected(t, 4);
    const fleeting = putWorkout(t, apiKey, { title: "Oops" });
    t.hevy.deleteWorkout(apiKey, fleeting.id);

    await requestSync(t, user);
    await drainQueue(t, deltaOptions());
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    const rows = await workoutRows(user.id, fleeting.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.deleted_at).not.toBeNull();
    expect((await syncRuns(user.id, "delta"))[0]).toMatchObject({ upserts: 0, deletes: 1 });

    // Hevy's creation webhook arrives late: the fetch finds nothing (404) and the message is done, not retried.
    expect((await sendWebhook(t, apiKey, fleeting.id)).status).toBe(200);
    const drained = await drainQueue(t, deltaOptions());
    expect(drained.delivered.map((d) => d.outcome)).toEqual(["ack"]);
    expect(t.hevy.requests.at(-1)).toMatchObject({ path: `/v1/workouts/${fleeting.id}`, status: 404 });
    expect(await workoutRows(user.id, fleeting.id)).toEqual(rows);
    expect((await t.request(`/api/v1/workouts/hevy/${fleeting.id}`, { token: user.token })).status).toBe(404);
  });

  it("a fault on a later page leaves the cursor where it was; the redelivery stores the rest and only then advances it", async () => {
    const { user, apiKey } = await connected(t, 0);
    const cursorBefore = (await connectionRow(user.id))!.events_cursor;
    const made = Array.from({ length: 25 }, (_, i) => putWorkout(t, apiKey, { title: `W${i}` })); // W0 oldest
    failMatching(t, isEventsPage(3), 500, 6); // every in-process attempt of the first delivery

    await requestSync(t, user);
    const [msg] = t.queue.take() as [SyncMessage];
    const first = await deliver(t, QUEUE, msg, 1, deltaOptions());
    expect(first.retryMessages).toHaveLength(1);
    // Pages 1–2 (the 20 newest) are stored; page 3 (W0–W4) is not, and the cursor did not move past it.
    expect((await stored(user.id)).map((w) => w.title).sort()).toEqual(made.slice(5).map((w) => w.title).sort());
    expect((await connectionRow(user.id))!.events_cursor).toBe(cursorBefore);
    const v = await view(t, user);
    expect(v.status).toBe("active");
    expect(v.last_error).toMatch(/Hevy answered 500 to GET \/v1\/workouts\/events; retrying/);
    expect((await syncRuns(user.id, "delta"))[0]).toMatchObject({ outcome: "failed", upserts: 20 });

    const second = await deliver(t, QUEUE, msg, 2, deltaOptions());
    expect(second.retryMessages).toHaveLength(0);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
    expect((await connectionRow(user.id))!.events_cursor).toBe(Date.parse(made.at(-1)!.updated_at));
    expect((await view(t, user)).last_error).toBeNull();
    expect((await syncRuns(user.id, "delta")).map((r) => r.outcome)).toEqual(["failed", "ok"]);
  });

  it("a workout added while the feed is paged does not push older changes out of reach", async () => {
    const { user, apiKey } = await connected(t, 0);
    for (let i = 0; i < 20; i++) putWorkout(t, apiKey, { title: `W${i}` }); // exactly two pages
    let meanwhile = "";
    afterAnswer(t, isEventsPage(1), () => (meanwhile = putWorkout(t, apiKey, { title: "Logged meanwhile" }).id)); // W0 slips to page 3

    await requestSync(t, user);
    await drainQueue(t, deltaOptions());
    // Everything this run could see, W0 included, is stored; the workout logged meanwhile is the next run's.
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey).filter((w) => w.id !== meanwhile)));

    await requestSync(t, user);
    await drainQueue(t, deltaOptions());
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
  });

  it("events a shifted page skipped are read again by the next run: the cursor does not pass them", async () => {
    const { user, apiKey } = await connected(t, 0);
    for (let i = 0; i < 25; i++) putWorkout(t, apiKey, { title: `W${i}` });
    // Pages 2 and 3 are in flight together; Hevy answers page 3 first, three workouts are
    // logged, then page 2 comes from the shifted feed: W5–W7 appear on neither page.
    let page3Answered!: () => void;
    const page3 = new Promise<void>((r) => (page3Answered = r));
    let shifted = false;
    t.around(async (_req, url, next) => {
      if (isEventsPage(2)(url) && !shifted) await page3;
      const res = await next();
      if (isEventsPage(3)(url) && !shifted) {
        shifted = true;
        for (let i = 0; i < 3; i++) putWorkout(t, apiKey, { title: `Meanwhile ${i}` });
        page3Answered();
      }
      return res;
    });

    await requestSync(t, user);
    await drainQueue(t, deltaOptions());
    await requestSync(t, user);
    await drainQueue(t, deltaOptions());
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(apiKey)));
  });
});
