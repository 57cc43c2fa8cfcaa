import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { createDb } from "../src/db/client";
import type { Env } from "../src/env";
import { sha256Hex } from "../src/lib/crypto";
import type { SyncMessage } from "../src/queue/messages";
import { runBatch } from "../src/db/batch";
import { findJobConnection } from "../src/services/connections";
import { deleteWorkoutsStatements, upsertWorkoutsStatements } from "../src/services/sync/store";
import { queueRollupRebuilds, rebuildRollups } from "../src/services/metrics/rollup-rebuild";
import { ADMIN_TOKEN, callWorker, bindingOf, createUser, dataDbs, dbOf, expectProblem } from "./helpers";
import { remove, store, template, uniqueId, workout, type SummaryBody } from "./metrics-fixtures";
import { DEAD_LETTER_QUEUE, deliver, drainQueue, fastBackfill, QUEUE } from "./queue-helpers";
import { CONN, connectionRow, deltaOptions, putWorkout, sendWebhook, type SyncContext, useSyncContext } from "./sync-helpers";

// Weekly and per-template rollups kept at write time (src/services/metrics/rollups.ts), the
// time-zone change that moves them (PATCH /admin/v1/users/{id}), their rebuild
// (src/services/metrics/rollup-rebuild.ts) and what races with it. Every case checks what the user
// reads (summary, trends, muscle groups) and, where the point is the rows, hevy_weeks,
// hevy_week_templates and hevy_rollup_state. Races are driven by hand: a held Hevy answer or a
// D1 binding that runs a write just before the rebuild's batch; nothing sleeps.
//
// Zones: Europe/Berlin is UTC+1 and America/New_York UTC−5 in January and February 2026, so a
// workout around Sunday/Monday midnight falls into different Monday-start weeks in each.
// Local Monday 00:00 in UTC — Berlin: 02-01T23:00Z, 02-08T23:00Z, 02-15T23:00Z; New York:
// 01-26T05:00Z, 02-02T05:00Z, 02-09T05:00Z, 02-16T05:00Z, 02-23T05:00Z. "Now" is Wednesday
// 2026-02-18, so four weeks are those of 01-26, 02-02, 02-09 and 02-16 in either zone.

const NOW = "2026-02-18T12:00:00Z";
const BERLIN = "Europe/Berlin";
const NEW_YORK = "America/New_York";
const SYDNEY = "Australia/Sydney";
const at = (iso: string) => Date.parse(iso);

type Week = SummaryBody["weeks"][number];
type Trends = Pick<SummaryBody, "weeks" | "totals">;
interface MuscleGroups { data: SummaryBody["muscle_groups"]; next_cursor: null }

const week = (week_start: string, workouts = 0, sets = 0, volume_kg = 0): Week => ({ week_start, workouts, sets, volume_kg });

/** GET as `token` with the app's clock at NOW, against `testEnv` (its DB may be another database). */
async function get<T>(testEnv: Env, token: string, path: string): Promise<T> {
  const res = await callWorker(testEnv, path, { token, app: createApp({ deps: { now: () => at(NOW) } }) });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as T;
}

/** What the user reads: the summary, the trends, and one New York week's muscle groups. */
async function answers(testEnv: Env, token: string) {
  return {
    summary: await get<SummaryBody>(testEnv, token, "/api/v1/hevy/summary?weeks=4"),
    trends: await get<Trends>(testEnv, token, "/api/v1/hevy/trends?weeks=4"),
    // Exactly New York's week of 02-09: in New York read from the per-template rollups once complete; in Berlin two partial weeks.
    nyWeek: await get<MuscleGroups>(testEnv, token, `/api/v1/hevy/muscle-groups?from=2026-02-09T05:00:00Z&to=2026-02-16T05:00:00Z`),
  };
}

// The rows below are read from `db`, by default the user's database (their shard, SPEC §12).
const stateOf = async (userId: string, db?: D1Database) =>
  (db ?? (await dbOf(userId))).prepare("SELECT zone FROM hevy_rollup_state WHERE user_id = ?").bind(userId).first<{ zone: string }>();
const weekRows = async (userId: string, db?: D1Database) =>
  (db ?? (await dbOf(userId))).prepare("SELECT week_start, from_ms, to_ms, workouts, sets, volume_kg, dirty FROM hevy_weeks WHERE user_id = ? ORDER BY week_start")
    .bind(userId).all<Record<string, unknown>>().then((r) => r.results);
const templateRows = async (userId: string, db?: D1Database) =>
  (db ?? (await dbOf(userId))).prepare("SELECT week_start, template_id, sets, volume_kg FROM hevy_week_templates WHERE user_id = ? ORDER BY week_start, template_id")
    .bind(userId).all<Record<string, unknown>>().then((r) => r.results);
/** The user's zone in the directory; the copy of the user row in their shard (what the rollups follow) says the same. */
const userZone = async (userId: string) => {
  const zone = (await env.DB.prepare("SELECT timezone FROM users WHERE id = ?").bind(userId).first<{ timezone: string }>())?.timezone;
  const copy = (await (await dbOf(userId)).prepare("SELECT timezone FROM users WHERE id = ?").bind(userId).first<{ timezone: string }>())?.timezone;
  expect(copy, "the user row's copy in their shard").toBe(zone);
  return zone;
};
/** The cron's sweep of the database `userId` lives in (the cron runs it per database: SPEC §12). */
const sweepRebuilds = async (t: SyncContext, userId: string) =>
  queueRollupRebuilds({ d1: await dbOf(userId), queue: t.queue as unknown as Queue<SyncMessage> });

/** A hevy_weeks row as the rebuild writes it in New York: bounds at local Monday 00:00 (EST, UTC−5). */
const nyWeekRow = (monday: string, workouts: number, sets: number, volume_kg: number) => {
  const next = new Date(at(`${monday}T00:00:00Z`) + 7 * 86_400_000).toISOString().slice(0, 10);
  return { week_start: monday, from_ms: at(`${monday}T05:00:00Z`), to_ms: at(`${next}T05:00:00Z`), workouts, sets, volume_kg, dirty: 0 };
};

/** PATCH /admin/v1/users/{id}; `token` "" sends no Authorization. */
function patchZone(t: SyncContext, id: string, json: unknown, token = ADMIN_TOKEN) {
  return t.request(`/admin/v1/users/${id}`, { method: "PATCH", token, json });
}

/** A PATCH that must succeed; its body. */
async function patchOk(t: SyncContext, id: string, timezone: string) {
  const res = await patchZone(t, id, { timezone });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  return JSON.parse(text) as { id: string; email: string; timezone: string };
}

/** Built-in templates with this run's ids: Squat (quadriceps; glutes, hamstrings), Pull Up (lats; biceps), Bench (chest). */
async function templates() {
  const ids = { BENCH: uniqueId("BENCH"), SQUAT: uniqueId("SQUAT"), PULLUP: uniqueId("PULLUP") };
  await template("", ids.BENCH, "Bench Press (Barbell)", "chest", ["triceps"]);
  await template("", ids.SQUAT, "Squat (Barbell)", "quadriceps", ["glutes", "hamstrings"]);
  await template("", ids.PULLUP, "Pull Up", "lats", ["biceps"]);
  return ids;
}

/**
 * A Berlin user's history, stored through the sync's write path:
 *   A Sun 02-08 23:30Z (Mon 00:30 Berlin, Sun 18:30 New York): bench 100×5 — 1 set, 500 kg
 *   B Mon 02-16 01:00Z (Mon 02:00 Berlin, Sun 20:00 New York): squat warm-up 60×5, 100×3, 100×3 — 3 sets, 600 kg
 *   C Wed 02-11 12:00Z: pull up 10×10 — 1 set, 100 kg
 *   D Mon 02-02 00:30Z: bench 200×1, deleted — counts nowhere
 *   E Mon 2025-12-29 03:00Z (Mon 04:00 Berlin, Sun 22:00 New York): bench 50×10 — 1 set, 500 kg, before the window
 */
async function berlinHistory(t: SyncContext) {
  const user = await createUser(t, BERLIN);
  const ids = await templates();
  await store(user.id, [
    workout("A", "2026-02-08T23:30:00Z", 60, [{ template: ids.BENCH, title: "Bench Press (Barbell)", sets: [["normal", 100, 5]] }]),
    workout("B", "2026-02-16T01:00:00Z", 60, [{ template: ids.SQUAT, title: "Squat (Barbell)", sets: [["warmup", 60, 5], ["normal", 100, 3], ["normal", 100, 3]] }]),
    workout("C", "2026-02-11T12:00:00Z", 60, [{ template: ids.PULLUP, title: "Pull Up", sets: [["normal", 10, 10]] }]),
    workout("D", "2026-02-02T00:30:00Z", 60, [{ template: ids.BENCH, title: "Bench Press (Barbell)", sets: [["normal", 200, 1]] }]),
    workout("E", "2025-12-29T03:00:00Z", 60, [{ template: ids.BENCH, title: "Bench Press (Barbell)", sets: [["normal", 50, 10]] }]),
  ]);
  await remove(user.id, "D", at("2026-02-03T00:00:00Z"));
  return { user, ids };
}

// Berlin: A and C in the week of 02-09, B in that of 02-16.
const BERLIN_WEEKS = [week("2026-01-26"), week("2026-02-02"), week("2026-02-09", 2, 2, 600), week("2026-02-16", 1, 3, 600)];
// New York: A in the week of 02-02, B and C in that of 02-09.
const NY_WEEKS = [week("2026-01-26"), week("2026-02-02", 1, 1, 500), week("2026-02-09", 2, 4, 700), week("2026-02-16")];
const TOTALS = { workouts: 3, sets: 5, volume_kg: 1200 };
// New York's week of 02-09: B's squat 2 sets / 600 kg (quadriceps 1, glutes and hamstrings 0.5 each), C's pull up 1 / 100 (lats 1, biceps 0.5).
const NY_WEEK_GROUPS = [
  { muscle_group: "quadriceps", sets: 2, volume_kg: 600 },
  { muscle_group: "glutes", sets: 1, volume_kg: 300 },
  { muscle_group: "hamstrings", sets: 1, volume_kg: 300 },
  { muscle_group: "lats", sets: 1, volume_kg: 100 },
  { muscle_group: "biceps", sets: 0.5, volume_kg: 50 },
];

describe("PATCH /admin/v1/users/{id}", () => {
  const t = useSyncContext();

  it("moves the user to another zone: answers follow at once (from the rows), the queued rebuild rewrites the rollups in the new zone's weeks", async () => {
    const { user, ids } = await berlinHistory(t);
    // Before: the rollups are complete in Berlin and the answers are Berlin's weeks.
    expect(await stateOf(user.id)).toEqual({ zone: BERLIN });
    const berlin = await answers(t.env, user.token);
    expect(berlin.trends).toEqual({ weeks: BERLIN_WEEKS, totals: TOTALS });
    expect(berlin.summary.weeks).toEqual(BERLIN_WEEKS);
    // An instant range means the same workouts in any zone; Berlin only splits it differently (two partial weeks, no rollups).
    expect(berlin.nyWeek.data).toEqual(NY_WEEK_GROUPS);

    expect(await patchOk(t, user.id, "america/new_york")).toEqual({ id: user.id, email: user.email, timezone: NEW_YORK });
    expect(await userZone(user.id)).toBe(NEW_YORK);
    expect(t.queue.sends).toEqual([{ body: { type: "rebuild_rollups", userId: user.id }, delaySeconds: undefined }]);

    // Right after the PATCH, before the rebuild: no complete rollups, New York's weeks computed from the rows.
    expect(await stateOf(user.id)).toBeNull();
    const before = await answers(t.env, user.token);
    expect(before.trends).toEqual({ weeks: NY_WEEKS, totals: TOTALS });
    expect(before.summary.weeks).toEqual(NY_WEEKS);
    expect(before.summary.totals).toEqual(TOTALS);
    expect(before.nyWeek.data).toEqual(NY_WEEK_GROUPS);

    const drained = await drainQueue(t);
    expect(drained.delivered).toEqual([{ body: { type: "rebuild_rollups", userId: user.id }, attempts: 1, outcome: "ack", delaySeconds: undefined }]);

    // After: complete in New York, New York's weeks only (E in the week of 2025-12-22), and the same answers.
    expect(await stateOf(user.id)).toEqual({ zone: NEW_YORK });
    expect(await weekRows(user.id)).toEqual([
      nyWeekRow("2025-12-22", 1, 1, 500), // E
      nyWeekRow("2026-02-02", 1, 1, 500), // A
      nyWeekRow("2026-02-09", 2, 4, 700), // B + C
    ]);
    expect(await templateRows(user.id)).toEqual([
      { week_start: "2025-12-22", template_id: ids.BENCH, sets: 1, volume_kg: 500 },
      { week_start: "2026-02-02", template_id: ids.BENCH, sets: 1, volume_kg: 500 },
      { week_start: "2026-02-09", template_id: ids.PULLUP, sets: 1, volume_kg: 100 },
      { week_start: "2026-02-09", template_id: ids.SQUAT, sets: 2, volume_kg: 600 },
    ]);
    expect(await answers(t.env, user.token)).toEqual(before);
    // Nothing else queued, and the cron finds nothing to rebuild for this user.
    expect(t.queue.messages).toEqual([]);
    await sweepRebuilds(t, user.id);
    expect(t.queue.take().filter((m) => m.userId === user.id)).toEqual([]);
  });

  it("to the zone the user already has (any spelling): 200, nothing queued, the rollups stay complete", async () => {
    const { user } = await berlinHistory(t);
    const weeksBefore = await weekRows(user.id);
    for (const timezone of [BERLIN, "europe/berlin"]) {
      expect(await patchOk(t, user.id, timezone)).toEqual({ id: user.id, email: user.email, timezone: BERLIN });
    }
    expect(t.queue.sends).toEqual([]);
    expect(await stateOf(user.id)).toEqual({ zone: BERLIN });
    expect(await weekRows(user.id)).toEqual(weeksBefore);
    expect((await answers(t.env, user.token)).trends).toEqual({ weeks: BERLIN_WEEKS, totals: TOTALS });
  });

  it("for a user with no live workout (only a tombstone): the empty rollups are complete in the new zone at once, nothing queued", async () => {
    const user = await createUser(t, BERLIN);
    await store(user.id, [workout("gone", "2026-02-08T23:30:00Z", 30, [{ template: null, title: "Row", sets: [["normal", 10, 10]] }])]);
    await remove(user.id, "gone", at("2026-02-09T12:00:00Z"));
    expect(await patchOk(t, user.id, NEW_YORK)).toEqual({ id: user.id, email: user.email, timezone: NEW_YORK });
    expect(await stateOf(user.id)).toEqual({ zone: NEW_YORK });
    expect(t.queue.sends).toEqual([]);
    const { trends, summary } = await answers(t.env, user.token);
    expect(trends).toEqual({ weeks: NY_WEEKS.map((w) => week(w.week_start)), totals: { workouts: 0, sets: 0, volume_kg: 0 } });
    expect(summary.muscle_groups).toEqual([]);
  });

  it("refuses a bad zone, extra fields, an unknown user and anyone but the admin — changing nothing", async () => {
    const user = await createUser(t, BERLIN);
    for (const timezone of ["Mars/Olympus_Mons", "", "+25:00", "UTC; DROP TABLE users", 5, null]) {
      const problem = await expectProblem(await patchZone(t, user.id, { timezone }), 400, "validation_failed");
      expect(problem.errors!.map((e) => e.path)).toEqual(["timezone"]);
    }
    await expectProblem(await patchZone(t, user.id, {}), 400, "validation_failed");
    const extra = await expectProblem(await patchZone(t, user.id, { timezone: NEW_YORK, email: "x@example.com" }), 400, "validation_failed");
    expect(extra.errors!.map((e) => e.path)).toEqual([""]);
    expect(extra.errors![0]!.message).toContain("email");
    await expectProblem(await patchZone(t, user.id, { timezone: NEW_YORK, is_admin: true }), 400, "validation_failed");
    await expectProblem(await patchZone(t, "no-such-user", { timezone: NEW_YORK }), 404, "not_found");
    await expectProblem(await patchZone(t, "not a user id", { timezone: NEW_YORK }), 400, "validation_failed");
    await expectProblem(await patchZone(t, user.id, { timezone: NEW_YORK }, ""), 401, "unauthorized");
    await expectProblem(await patchZone(t, user.id, { timezone: NEW_YORK }, user.token), 401, "unauthorized");
    await expectProblem(await patchZone(t, user.id, { timezone: NEW_YORK }, `${ADMIN_TOKEN}x`), 401, "unauthorized");
    expect(await userZone(user.id)).toBe(BERLIN);
    expect(await stateOf(user.id)).toEqual({ zone: BERLIN });
    expect(t.queue.sends).toEqual([]);
  });
});

/** A user connected the realistic way, with these workouts in Hevy (bench: warm-up 40×10 and weight×5), backfilled. */
async function connectedWith(t: SyncContext, zone: string, workouts: Array<{ start: string; weight: number }>) {
  const user = await createUser(t, zone);
  const account = t.hevy.createAccount();
  for (const w of workouts) putWorkout(t, account.apiKey, { start_time: w.start, weight: w.weight });
  const res = await t.request(CONN, { method: "PUT", token: user.token, json: { api_key: account.apiKey } });
  expect(res.status, await res.clone().text()).toBe(202);
  await drainQueue(t, { backfill: fastBackfill() });
  expect((await connectionRow(user.id))!.backfill_state).toBe("done");
  return { user, apiKey: account.apiKey };
}

describe("a sync job's rollup zone", () => {
  const t = useSyncContext();

  // Sydney is UTC+11 in February: Mon 02-09 00:30 there is Sun 02-08 13:30Z, in the week of 02-09 (from 02-08T13:00Z).
  it("is its own user's, whoever else has rollups: the backfill and a webhook fetch keep the user's rollups complete", async () => {
    // Someone whose rollups were complete before this user's, in another zone, in the database this
    // user lands in: new users go to the emptiest shard (SPEC §12), so two in a row cover both shards.
    const others = [await createUser(t, "Asia/Tokyo"), await createUser(t, "Asia/Tokyo")];
    const { user, apiKey } = await connectedWith(t, SYDNEY, [{ start: "2026-02-08T13:30:00.000Z", weight: 100 }]);
    expect(await Promise.all(others.map((o) => bindingOf(o.id)))).toContain(await bindingOf(user.id));
    expect((await findJobConnection(createDb(await dbOf(user.id)), user.id))?.rollupZone).toBe(SYDNEY);
    expect(await stateOf(user.id)).toEqual({ zone: SYDNEY });
    expect((await weekRows(user.id)).map((r) => [r.week_start, r.workouts, r.sets, r.volume_kg])).toEqual([["2026-02-09", 1, 2, 500]]);

    // Wed 02-11 in Sydney, the same week.
    const next = putWorkout(t, apiKey, { start_time: "2026-02-11T01:00:00.000Z", weight: 60 });
    expect((await sendWebhook(t, apiKey, next.id)).status).toBe(200);
    expect((await drainQueue(t, deltaOptions())).delivered.map((d) => [d.body.type, d.outcome])).toEqual([["webhook_workout", "ack"]]);
    expect(await stateOf(user.id)).toEqual({ zone: SYDNEY });
    expect((await weekRows(user.id)).map((r) => [r.week_start, r.workouts, r.sets, r.volume_kg])).toEqual([["2026-02-09", 2, 4, 800]]);
    expect((await answers(t.env, user.token)).trends.weeks).toEqual([week("2026-01-26"), week("2026-02-02"), week("2026-02-09", 2, 4, 800), week("2026-02-16")]);
  });
});

describe("a sync job that read the rollup zone before a zone change and writes after the rebuild", () => {
  const t = useSyncContext();

  it("drops the state row (answers come from the rows, the job's workout included); the cron queues a rebuild that restores it", async () => {
    // A: Sun 02-08 23:30Z, 2 sets, 500 kg; C: Wed 02-11, 2 sets, 300 kg.
    const { user, apiKey } = await connectedWith(t, BERLIN, [{ start: "2026-02-08T23:30:00.000Z", weight: 100 }, { start: "2026-02-11T12:00:00.000Z", weight: 60 }]);
    expect(await stateOf(user.id)).toEqual({ zone: BERLIN });
    expect((await answers(t.env, user.token)).trends.weeks).toEqual([week("2026-01-26"), week("2026-02-02"), week("2026-02-09", 2, 4, 800), week("2026-02-16")]);

    // J: Mon 02-16 01:00Z (Berlin's week of 02-16, New York's of 02-09), 2 sets, 400 kg. Hevy announces it by webhook.
    const j = putWorkout(t, apiKey, { start_time: "2026-02-16T01:00:00.000Z", weight: 80 });
    expect((await sendWebhook(t, apiKey, j.id)).status).toBe(200);
    const [webhookMsg, ...rest] = t.queue.take();
    expect(rest).toEqual([]);
    expect(webhookMsg).toMatchObject({ type: "webhook_workout", workoutId: j.id });

    // The job reads the connection (and the rollup zone, Berlin), then Hevy's answer is held.
    const paused = t.hevy.pause({ path: `/v1/workouts/${j.id}` });
    const job = deliver(t, QUEUE, webhookMsg, 1, deltaOptions());
    await paused.arrived;

    await patchOk(t, user.id, NEW_YORK);
    const rebuild = t.queue.take();
    expect(rebuild).toEqual([{ type: "rebuild_rollups", userId: user.id }]);
    expect((await deliver(t, QUEUE, rebuild[0], 1)).retryMessages).toEqual([]);
    expect(await stateOf(user.id)).toEqual({ zone: NEW_YORK });

    // The job writes J with weeks computed in Berlin.
    paused.release();
    expect((await job).retryMessages).toEqual([]);
    expect(t.queue.messages).toEqual([]);

    // New York: A in the week of 02-02; C and J in that of 02-09.
    const nyWeeks = [week("2026-01-26"), week("2026-02-02", 1, 2, 500), week("2026-02-09", 2, 4, 700), week("2026-02-16")];
    const nyTotals = { workouts: 3, sets: 6, volume_kg: 1200 };
    expect(await stateOf(user.id)).toBeNull();
    const stale = await answers(t.env, user.token);
    expect(stale.trends).toEqual({ weeks: nyWeeks, totals: nyTotals });
    expect(stale.summary.weeks).toEqual(nyWeeks);
    expect(stale.summary.recent_sessions.map((s) => s.id)).toContain(j.id);

    // The hourly cron's step finds the user and queues a rebuild; delivered, the rollups are complete again.
    expect(await sweepRebuilds(t, user.id)).toBeGreaterThanOrEqual(1);
    const queued = t.queue.take().filter((m) => m.userId === user.id);
    expect(queued).toEqual([{ type: "rebuild_rollups", userId: user.id }]);
    expect((await deliver(t, QUEUE, queued[0], 1)).retryMessages).toEqual([]);
    expect(await stateOf(user.id)).toEqual({ zone: NEW_YORK });
    expect(await weekRows(user.id)).toEqual([nyWeekRow("2026-02-02", 1, 2, 500), nyWeekRow("2026-02-09", 2, 4, 700)]);
    expect(await answers(t.env, user.token)).toEqual(stale);
  });
});

describe("a sync job that started while the rollups were being rebuilt (no state row) and writes after the rebuild", () => {
  const t = useSyncContext();

  it("drops the state row the rebuild wrote: answers still include the job's workout; the cron's rebuild restores the rollups", async () => {
    const { user, apiKey } = await connectedWith(t, BERLIN, [{ start: "2026-02-08T23:30:00.000Z", weight: 100 }, { start: "2026-02-11T12:00:00.000Z", weight: 60 }]);
    await patchOk(t, user.id, NEW_YORK);
    const rebuild = t.queue.take();
    expect(rebuild).toEqual([{ type: "rebuild_rollups", userId: user.id }]);
    expect(await stateOf(user.id)).toBeNull();

    // The job starts now, finding no complete rollups; Hevy's answer is held until the rebuild has run.
    const j = putWorkout(t, apiKey, { start_time: "2026-02-16T01:00:00.000Z", weight: 80 });
    expect((await sendWebhook(t, apiKey, j.id)).status).toBe(200);
    const [webhookMsg] = t.queue.take();
    const paused = t.hevy.pause({ path: `/v1/workouts/${j.id}` });
    const job = deliver(t, QUEUE, webhookMsg, 1, deltaOptions());
    await paused.arrived;
    expect((await deliver(t, QUEUE, rebuild[0], 1)).retryMessages).toEqual([]);
    expect(await stateOf(user.id)).toEqual({ zone: NEW_YORK });
    paused.release();
    expect((await job).retryMessages).toEqual([]);

    const nyWeeks = [week("2026-01-26"), week("2026-02-02", 1, 2, 500), week("2026-02-09", 2, 4, 700), week("2026-02-16")];
    expect(await stateOf(user.id)).toBeNull();
    const after = await answers(t.env, user.token);
    expect(after.trends).toEqual({ weeks: nyWeeks, totals: { workouts: 3, sets: 6, volume_kg: 1200 } });

    await sweepRebuilds(t, user.id);
    const queued = t.queue.take().filter((m) => m.userId === user.id);
    expect(queued).toEqual([{ type: "rebuild_rollups", userId: user.id }]);
    expect((await deliver(t, QUEUE, queued[0], 1)).retryMessages).toEqual([]);
    expect(await stateOf(user.id)).toEqual({ zone: NEW_YORK });
    expect(await weekRows(user.id)).toEqual([nyWeekRow("2026-02-02", 1, 2, 500), nyWeekRow("2026-02-09", 2, 4, 700)]);
    expect(await answers(t.env, user.token)).toEqual(after);
  });
});

/**
 * `real`, except that before each batch it runs the next of `writes` (if any): a write landing
 * between the rebuild's reads and its batch, which D1 would run in that order.
 */
function writesBeforeBatches(real: D1Database, writes: Array<() => Promise<void>>) {
  const seen = { batches: 0 };
  const d1 = new Proxy(real, {
    get(target, prop) {
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          seen.batches++;
          await writes.shift()?.();
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { d1, seen };
}


/** A one-set workout of 10 kg × 10 at `start`. */
const single = (id: string, start: string) => workout(id, start, 30, [{ template: null, title: "Row", sets: [["normal", 10, 10]] }]);

describe("the rebuild racing a write", () => {
  const t = useSyncContext();

  it("a workout stored between its reads and its batch, in a week it did not list: not marked complete without it; it runs again and ends complete", async () => {
    const { user } = await berlinHistory(t);
    await patchOk(t, user.id, NEW_YORK);
    // Wed 01-28: New York's week of 01-26, which holds no other workout.
    const late = writesBeforeBatches(await dbOf(user.id), [() => store(user.id, [single("late", "2026-01-28T12:00:00Z")])]);

    expect(await rebuildRollups({ d1: late.d1 }, user.id)).toBe(true);
    expect(late.seen.batches).toBe(2); // the first batch found a live workout outside its weeks

    const weeks = [week("2026-01-26", 1, 1, 100), ...NY_WEEKS.slice(1)];
    expect(await stateOf(user.id)).toEqual({ zone: NEW_YORK });
    expect(await weekRows(user.id)).toEqual([
      nyWeekRow("2025-12-22", 1, 1, 500),
      nyWeekRow("2026-01-26", 1, 1, 100),
      nyWeekRow("2026-02-02", 1, 1, 500),
      nyWeekRow("2026-02-09", 2, 4, 700),
    ]);
    const { trends, nyWeek } = await answers(t.env, user.token);
    expect(trends).toEqual({ weeks, totals: { workouts: 4, sets: 6, volume_kg: 1300 } });
    expect(nyWeek.data).toEqual(NY_WEEK_GROUPS);
  });

  it("writes landing before every attempt: the message is retried later, readers compute from the rows meanwhile, the redelivery completes it", async () => {
    const { user } = await berlinHistory(t);
    await patchOk(t, user.id, NEW_YORK);
    const [message, ...rest] = t.queue.take();
    expect(rest).toEqual([]);
    // One new workout before each of the three batches, each in a week no attempt listed before it.
    const busy = writesBeforeBatches(await dbOf(user.id), [
      () => store(user.id, [single("w1", "2026-01-28T12:00:00Z")]), // New York's week of 01-26
      () => store(user.id, [single("w2", "2026-02-17T12:00:00Z")]), // of 02-16
      () => store(user.id, [single("w3", "2026-01-07T12:00:00Z")]), // of 01-05
    ]);
    // The Worker's binding of the user's database is the busy one (the directory stays as it is).
    const busyT = { ...t, env: { ...t.env, [await bindingOf(user.id)]: busy.d1 } };
    const first = await deliver(busyT, QUEUE, message, 1);
    expect(first.retryMessages).toHaveLength(1);
    expect(first.delaySeconds).toBeGreaterThanOrEqual(30);
    expect(busy.seen.batches).toBe(3);

    const weeks = [week("2026-01-26", 1, 1, 100), NY_WEEKS[1]!, NY_WEEKS[2]!, week("2026-02-16", 1, 1, 100)];
    const totals = { workouts: 5, sets: 7, volume_kg: 1400 };
    expect(await stateOf(user.id)).toBeNull();
    const meanwhile = await answers(t.env, user.token);
    expect(meanwhile.trends).toEqual({ weeks, totals });

    expect((await deliver(t, QUEUE, message, 2)).retryMessages).toEqual([]);
    expect(await stateOf(user.id)).toEqual({ zone: NEW_YORK });
    expect((await weekRows(user.id)).map((r) => [r.week_start, r.workouts])).toEqual([
      ["2025-12-22", 1], ["2026-01-05", 1], ["2026-01-26", 1], ["2026-02-02", 1], ["2026-02-09", 2], ["2026-02-16", 1],
    ]);
    expect(await answers(t.env, user.token)).toEqual(meanwhile);
  });
});

describe("DELETE /api/v1/connections/hevy?purge=true", () => {
  const t = useSyncContext();

  it("removes the user's weekly and per-template rollups, keeps their state row, and leaves another user's rollups alone", async () => {
    const { user } = await connectedWith(t, BERLIN, []);
    // Another user in the same database (their shard, SPEC §12): users are created until one lands there.
    let other = (await connectedWith(t, BERLIN, [])).user;
    for (let i = 0; i < 3 && (await bindingOf(other.id)) !== (await bindingOf(user.id)); i++) other = (await connectedWith(t, BERLIN, [])).user;
    expect(await bindingOf(other.id)).toBe(await bindingOf(user.id));
    const ids = await templates();
    const history = [
      workout("A", "2026-02-08T23:30:00Z", 60, [{ template: ids.BENCH, title: "Bench Press (Barbell)", sets: [["normal", 100, 5]] }]),
      workout("C", "2026-02-11T12:00:00Z", 60, [{ template: ids.PULLUP, title: "Pull Up", sets: [["normal", 10, 10]] }]),
    ];
    await store(user.id, history);
    await store(other.id, history);
    const filled = [week("2026-01-26"), week("2026-02-02"), week("2026-02-09", 2, 2, 600), week("2026-02-16")];
    expect((await answers(t.env, user.token)).trends.weeks).toEqual(filled);
    expect(await weekRows(user.id)).toHaveLength(1);
    expect(await templateRows(user.id)).toHaveLength(2);
    const otherBefore = { state: await stateOf(other.id), weeks: await weekRows(other.id), templates: await templateRows(other.id), answers: await answers(t.env, other.token) };
    expect(otherBefore.weeks).toHaveLength(1);

    expect((await t.request(`${CONN}?purge=true`, { method: "DELETE", token: user.token })).status).toBe(204);

    expect(await weekRows(user.id)).toEqual([]);
    expect(await templateRows(user.id)).toEqual([]);
    expect(await stateOf(user.id)).toEqual({ zone: BERLIN }); // the empty rollups are complete
    const { trends, summary } = await answers(t.env, user.token);
    expect(trends).toEqual({ weeks: filled.map((w) => week(w.week_start)), totals: { workouts: 0, sets: 0, volume_kg: 0 } });
    expect(summary.muscle_groups).toEqual([]);
    expect({ state: await stateOf(other.id), weeks: await weekRows(other.id), templates: await templateRows(other.id), answers: await answers(t.env, other.token) })
      .toEqual(otherBefore);

    // Kept from empty from here on: a workout stored after the purge counts, once.
    await store(user.id, [history[1]!]);
    expect((await answers(t.env, user.token)).trends.weeks).toEqual([week("2026-01-26"), week("2026-02-02"), week("2026-02-09", 1, 1, 100), week("2026-02-16")]);
  });
});

describe("rebuild_rollups messages", () => {
  const t = useSyncContext();
  let dlq: Array<{ body: unknown; contentType?: string }>;
  beforeEach(() => {
    dlq = [];
    t.env.SYNC_DLQ = { send: async (body: unknown, options?: QueueSendOptions) => { dlq.push({ body: structuredClone(body), contentType: options?.contentType }); } } as unknown as Env["SYNC_DLQ"];
  });

  it("for a user who no longer exists: acknowledged, nothing written", async () => {
    const userId = `gone-${crypto.randomUUID()}`;
    const result = await deliver(t, QUEUE, { type: "rebuild_rollups", userId }, 1);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(dlq).toEqual([]);
    // Nowhere: not in the directory (where an unknown user's job looks), not in any shard.
    for (const db of dataDbs()) {
      expect(await stateOf(userId, db)).toBeNull();
      expect(await weekRows(userId, db)).toEqual([]);
    }
  });

  it("with an invalid body: poison, sent to the dead-letter queue unchanged and acknowledged, nothing run", async () => {
    const { user } = await berlinHistory(t);
    const weeksBefore = await weekRows(user.id);
    const poison: unknown[] = [
      { type: "rebuild_rollups" },
      { type: "rebuild_rollups", userId: "" },
      { type: "rebuild_rollups", userId: 42 },
      { type: "rebuild_rollups", userId: "u".repeat(65) },
      { type: "rebuild_rollup", userId: user.id },
    ];
    for (const body of poison) {
      const result = await deliver(t, QUEUE, body, 1);
      expect(result.retryMessages).toEqual([]);
      expect(result.explicitAcks).toHaveLength(1);
    }
    expect(dlq).toEqual(poison.map((body) => ({ body, contentType: "v8" })));
    expect(t.queue.messages).toEqual([]);
    expect(await stateOf(user.id)).toEqual({ zone: BERLIN });
    expect(await weekRows(user.id)).toEqual(weeksBefore);
  });

  it("a valid one that gave up, on the dead-letter queue: recorded for the operator, acknowledged, not the user's sync failure", async () => {
    const { user } = await connectedWith(t, BERLIN, []);
    const result = await deliver(t, DEAD_LETTER_QUEUE, { type: "rebuild_rollups", userId: user.id }, 1);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(1);
    const letters = await env.DB.prepare("SELECT reason, message_type FROM dead_letters WHERE user_id = ?").bind(user.id).all();
    expect(letters.results).toEqual([{ reason: "retries_exhausted", message_type: "rebuild_rollups" }]);
    expect(await connectionRow(user.id)).toMatchObject({ status: "active", backfill_state: "done", last_error: null });
  });
});

describe("migration 0006 on a database that holds rows", () => {
  const t = useSyncContext();
  const mdb = () => env.MIGRATION_DB;

  /** Raw rows as the code before 0006 wrote them: a workout with its per-workout metrics, exercises and sets. */
  async function insertWorkouts(userId: string, rows: Array<{ id: string; start: string; deleted?: boolean; template: string; sets: Array<[string, number, number]> }>) {
    const statements: D1PreparedStatement[] = [];
    for (const r of rows) {
      const live = !r.deleted;
      const volume = live ? r.sets.filter(([type]) => type !== "warmup").reduce((n, [, kg, reps]) => n + kg * reps, 0) : 0;
      statements.push(mdb().prepare(`INSERT INTO hevy_workouts (user_id, id, title, start_time, end_time, hevy_updated_at, deleted_at, volume_kg, set_count, exercise_count, synced_at)
        VALUES (?, ?, ?, ?, ?, 1000, ?, ?, ?, ?, 0)`)
        .bind(userId, r.id, `W ${r.id}`, at(r.start), at(r.start) + 3_600_000, live ? null : 2000, volume, live ? r.sets.length : 0, live ? 1 : 0));
      if (!live) continue;
      statements.push(mdb().prepare("INSERT INTO hevy_exercises (user_id, workout_id, exercise_index, title, exercise_template_id) VALUES (?, ?, 0, 'Lift', ?)").bind(userId, r.id, r.template));
      for (const [i, [type, kg, reps]] of r.sets.entries()) {
        statements.push(mdb().prepare("INSERT INTO hevy_sets (user_id, workout_id, exercise_index, set_index, type, weight_kg, reps) VALUES (?, ?, 0, ?, ?, ?, ?)")
          .bind(userId, r.id, i, type, kg, reps));
      }
    }
    await mdb().batch(statements);
  }

  async function insertUser(id: string, zone: string): Promise<string> {
    const token = `vt_${crypto.randomUUID().replace(/-/g, "")}`;
    await mdb().batch([
      mdb().prepare("INSERT INTO users (id, email, timezone, created_at) VALUES (?, ?, ?, 0)").bind(id, `${id}@example.com`, zone),
      mdb().prepare("INSERT INTO api_tokens (id, user_id, token_digest, created_at) VALUES (?, ?, ?, 0)").bind(crypto.randomUUID(), id, await sha256Hex(token)),
    ]);
    return token;
  }

  it("gives users without a live workout complete rollups in their zone; the cron's rebuild fills the others' from their rows", async () => {
    await applyD1Migrations(mdb(), env.TEST_MIGRATIONS.filter((m) => m.name < "0006"));
    const tokens = {
      empty: await insertUser("m-empty", "Asia/Tokyo"),
      dead: await insertUser("m-dead", BERLIN),
      live: await insertUser("m-live", NEW_YORK),
    };
    await insertWorkouts("m-dead", [{ id: "x", start: "2026-02-10T10:00:00Z", deleted: true, template: "T-SQUAT", sets: [] }]);
    // The history of berlinHistory, in New York, written as rows: A, B, C live, D deleted, E before the window.
    await insertWorkouts("m-live", [
      { id: "A", start: "2026-02-08T23:30:00Z", template: "T-BENCH", sets: [["normal", 100, 5]] },
      { id: "B", start: "2026-02-16T01:00:00Z", template: "T-SQUAT", sets: [["warmup", 60, 5], ["normal", 100, 3], ["normal", 100, 3]] },
      { id: "C", start: "2026-02-11T12:00:00Z", template: "T-PULLUP", sets: [["normal", 10, 10]] },
      { id: "D", start: "2026-02-02T00:30:00Z", deleted: true, template: "T-BENCH", sets: [] },
      { id: "E", start: "2025-12-29T03:00:00Z", template: "T-BENCH", sets: [["normal", 50, 10]] },
    ]);
    await mdb().batch([
      mdb().prepare(`INSERT INTO hevy_exercise_templates (user_id, id, title, type, primary_muscle_group, secondary_muscle_groups, equipment_category, is_custom, synced_at)
        VALUES ('', 'T-SQUAT', 'Squat', 'weight_reps', 'quadriceps', '["glutes","hamstrings"]', 'barbell', 0, 0)`),
      mdb().prepare(`INSERT INTO hevy_exercise_templates (user_id, id, title, type, primary_muscle_group, secondary_muscle_groups, equipment_category, is_custom, synced_at)
        VALUES ('', 'T-PULLUP', 'Pull Up', 'weight_reps', 'lats', '["biceps"]', 'other', 0, 0)`),
    ]);
    await applyD1Migrations(mdb(), env.TEST_MIGRATIONS);

    const { results: states } = await mdb().prepare("SELECT user_id, zone FROM hevy_rollup_state ORDER BY user_id").all();
    expect(states).toEqual([{ user_id: "m-dead", zone: BERLIN }, { user_id: "m-empty", zone: "Asia/Tokyo" }]);
    expect((await mdb().prepare("SELECT count(*) AS n FROM hevy_weeks").first<{ n: number }>())!.n).toBe(0);

    // The Worker on the migrated database: right away, the answers are computed from the rows.
    const migrated = { ...t.env, DB: mdb() } as Env;
    const before = await answers(migrated, tokens.live);
    expect(before.trends).toEqual({ weeks: NY_WEEKS, totals: TOTALS });
    expect(before.nyWeek.data).toEqual(NY_WEEK_GROUPS);
    expect((await answers(migrated, tokens.empty)).trends.totals).toEqual({ workouts: 0, sets: 0, volume_kg: 0 });

    // The hourly cron's step queues the one user who needs a rebuild; the consumer runs it.
    expect(await queueRollupRebuilds({ d1: mdb(), queue: t.queue as unknown as Queue<SyncMessage> })).toBe(1);
    const queued = t.queue.take();
    expect(queued).toEqual([{ type: "rebuild_rollups", userId: "m-live" }]);
    expect((await deliver({ ...t, env: migrated }, QUEUE, queued[0], 1)).retryMessages).toEqual([]);

    expect(await stateOf("m-live", mdb())).toEqual({ zone: NEW_YORK });
    expect(await weekRows("m-live", mdb())).toEqual([nyWeekRow("2025-12-22", 1, 1, 500), nyWeekRow("2026-02-02", 1, 1, 500), nyWeekRow("2026-02-09", 2, 4, 700)]);
    expect(await templateRows("m-live", mdb())).toEqual([
      { week_start: "2025-12-22", template_id: "T-BENCH", sets: 1, volume_kg: 500 },
      { week_start: "2026-02-02", template_id: "T-BENCH", sets: 1, volume_kg: 500 },
      { week_start: "2026-02-09", template_id: "T-PULLUP", sets: 1, volume_kg: 100 },
      { week_start: "2026-02-09", template_id: "T-SQUAT", sets: 2, volume_kg: 600 },
    ]);
    expect(await answers(migrated, tokens.live)).toEqual(before);
    expect(await queueRollupRebuilds({ d1: mdb(), queue: t.queue as unknown as Queue<SyncMessage> })).toBe(0);
  });
});


describe("a writer that saw no rollup zone (or another one)", () => {
  const t = useSyncContext();
  const stateOf = async (userId: string) =>
    (await (await dbOf(userId)).prepare("SELECT zone FROM hevy_rollup_state WHERE user_id = ?").bind(userId).first<{ zone: string }>())?.zone ?? null;

  it("drops the state row only when its batch changed a workout: an unchanged re-read or an empty page leaves the rollups counting", async () => {
    const user = await createUser(t, BERLIN);
    const w = workout(crypto.randomUUID(), "2026-02-16T08:00:00Z", 60, [{ template: uniqueId("T"), title: "Squat", sets: [["normal", 100, 5]] }], at("2026-02-16T10:00:00Z"));
    await store(user.id, [w]);
    expect(await stateOf(user.id)).toBe(BERLIN);
    const stale = { userId: user.id, rollupZone: null };
    const db = await dbOf(user.id);
    // The same version again, a deletion older than it, nothing at all: nothing changes.
    await runBatch(db, [
      ...upsertWorkoutsStatements(stale, [w], Date.now()),
      ...deleteWorkoutsStatements(stale, [{ id: w.id, deletedAt: w.updatedAt - 1 }], Date.now()),
      ...upsertWorkoutsStatements(stale, [], Date.now()),
      ...deleteWorkoutsStatements(stale, [], Date.now()),
    ]);
    expect(await stateOf(user.id)).toBe(BERLIN);
    // A newer version is a change the writer did not roll up: the rollups stop counting.
    await runBatch(db, upsertWorkoutsStatements(stale, [{ ...w, title: "Edited", updatedAt: w.updatedAt + 1 }], Date.now()));
    expect(await stateOf(user.id)).toBeNull();
  });

  it("writes nothing at all for an empty page or events list", () => {
    const owner = { userId: crypto.randomUUID(), rollupZone: BERLIN };
    expect(upsertWorkoutsStatements(owner, [], 1)).toHaveLength(0);
    expect(deleteWorkoutsStatements(owner, [], 1)).toHaveLength(0);
  });
});

describe("volumes in pounds converted to kilograms (not exact binary fractions)", () => {
  const t = useSyncContext();

  it("weekly volumes are the same to the last bit with and without the rollups; muscle-group volumes within a few units of the last place", async () => {
    const user = await createUser(t, BERLIN);
    const [bench, row] = [uniqueId("T"), uniqueId("T")];
    await template("", bench, "Bench Press", "chest", ["triceps"]);
    await template("", row, "Row", "upper_back", ["biceps"]);
    const LB = 0.45359237;
    const workouts = Array.from({ length: 24 }, (_, i) =>
      workout(crypto.randomUUID(), new Date(at("2026-01-05T07:00:00Z") + i * 2 * 86_400_000 + i * 3_600_000).toISOString(), 60, [
        { template: bench, title: "Bench Press", sets: [["warmup", 45 * LB, 10], ["normal", (135 + 5 * i) * LB, 8], ["normal", (185 + 2.5 * i) * LB, 5]] },
        { template: row, title: "Row", sets: [["normal", (95 + i) * LB, 12], ["dropset", 77.7 * LB, 7]] },
      ]));
    await store(user.id, workouts);
    expect((await stateOf(user.id))?.zone).toBe(BERLIN);
    const ranges = ["", "?from=2026-01-12T00:00:00Z&to=2026-02-11T13:00:00Z", "?from=2026-01-01T00:00:00Z"];
    const read = async () => ({
      trends: await get<Trends>(t.env, user.token, "/api/v1/hevy/trends?weeks=8"),
      groups: await Promise.all(ranges.map((r) => get<MuscleGroups>(t.env, user.token, `/api/v1/hevy/muscle-groups${r}`))),
    });
    const withRollups = await read();
    await (await dbOf(user.id)).prepare("DELETE FROM hevy_rollup_state WHERE user_id = ?").bind(user.id).run();
    const fromRows = await read();
    expect(withRollups.trends).toEqual(fromRows.trends);
    expect(withRollups.trends.totals.volume_kg % 1).not.toBe(0); // the sums really are of inexact numbers
    for (const [i, groups] of withRollups.groups.entries()) {
      const other = fromRows.groups[i]!;
      expect(groups.data.map((g) => [g.muscle_group, g.sets])).toEqual(other.data.map((g) => [g.muscle_group, g.sets]));
      for (const [j, g] of groups.data.entries()) {
        expect(Math.abs(g.volume_kg - other.data[j]!.volume_kg), g.muscle_group).toBeLessThanOrEqual(g.volume_kg * 1e-14);
      }
    }
  });
});
