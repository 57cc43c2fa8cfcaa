import { describe, expect, it } from "vitest";
import { newD1Stats } from "../src/db/instrument";
import { withD1Stats } from "../src/deps";
import type { ConsumerOptions } from "../src/queue/consumer";
import { runBackfillChunk } from "../src/services/sync/backfill";
import { createUser, dbOf, depsFor, useTestContext, type TestContext, type TestUser } from "./helpers";
import { deliver, drainQueue, fastBackfill, QUEUE, recordingRetryPolicy } from "./queue-helpers";
import { rowsOf, stored, truth } from "./stored";

const CONN = "/api/v1/connections/hevy";

async function connect(t: TestContext, user: TestUser, apiKey: string) {
  const res = await t.request(CONN, { method: "PUT", token: user.token, json: { api_key: apiKey } });
  if (res.status !== 202) throw new Error(`connect: ${res.status} ${await res.text()}`);
}

async function view(t: TestContext, user: TestUser) {
  return (await (await t.request(CONN, { token: user.token })).json()) as {
    status: string;
    backfill: { state: string; pages_done: number; page_count: number | null; workouts_synced: number };
    last_sync_at: string | null;
    last_error: string | null;
  };
}

const row = async (userId: string) =>
  (await dbOf(userId)).prepare("SELECT * FROM hevy_connections WHERE user_id = ?").bind(userId).first<Record<string, unknown>>();

const runs = async (userId: string) =>
  (await dbOf(userId)).prepare("SELECT * FROM sync_runs WHERE user_id = ? ORDER BY started_at").bind(userId).all<Record<string, unknown>>().then((r) => r.results);

/** Plays the queue one message at a time until the first chunk of workout pages has run. */
async function deliverThroughFirstWorkoutsChunk(t: TestContext, options: ConsumerOptions) {
  for (;;) {
    const [msg] = t.queue.take();
    await deliver(t, QUEUE, msg, 1, options);
    if (msg!.type === "backfill" && msg!.phase === "workouts") return;
  }
}

const templatePages = (t: TestContext, apiKey: string) => Math.ceil(t.hevy.listExerciseTemplates(apiKey).length / 100);

describe("backfill", () => {
  const t = useTestContext();

  it("stores a history spread over many pages in shuffled order, field for field", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    t.hevy.addCustomTemplate(account.apiKey, { title: "Zercher Squat (Custom)" });
    t.hevy.generateHistory(account.apiKey, 137, { seed: 11 });
    const listed = t.hevy.listWorkouts(account.apiKey).map((w) => Date.parse(w.start_time));
    expect(listed).not.toEqual([...listed].sort((a, b) => b - a)); // the fake lists out of date order, like Hevy

    await connect(t, user, account.apiKey);
    const beforeBackfill = Date.now();
    const drained = await drainQueue(t, { backfill: fastBackfill({ pagesPerChunk: 5 }) });
    const afterBackfill = Date.now();

    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(account.apiKey)));
    const v = await view(t, user);
    expect(v.backfill).toEqual({ state: "done", pages_done: 14, page_count: 14, workouts_synced: 137 });
    expect(v.last_sync_at).not.toBeNull();
    expect(v.last_error).toBeNull();

    // Exactly the minimum: every template page and every workout page once, never past page_count.
    const backfillRequests = t.hevy.requests.filter((r) => r.path === "/v1/workouts" || r.path === "/v1/exercise_templates");
    const tPages = templatePages(t, account.apiKey);
    expect(backfillRequests).toHaveLength(tPages + 14);
    expect(backfillRequests.filter((r) => r.path === "/v1/workouts").map((r) => Number(r.query.page)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 14 }, (_, i) => i + 1),
    );
    expect(backfillRequests.every((r) => r.query.pageSize === (r.path === "/v1/workouts" ? "10" : "100"))).toBe(true);
    // Templates before workouts.
    const firstWorkoutPage = t.hevy.requests.findIndex((r) => r.path === "/v1/workouts");
    const lastTemplatePage = t.hevy.requests.findLastIndex((r) => r.path === "/v1/exercise_templates");
    expect(lastTemplatePage).toBeLessThan(firstWorkoutPage);
    // One templates message, then chunks of at most 5 pages.
    expect(drained.delivered.map((d) => d.body.type === "backfill" && d.body.phase)).toEqual(["templates", "workouts", "workouts", "workouts"]);

    // The events cursor is the backfill's start minus a 5-minute safety margin.
    const r = (await row(user.id))!;
    expect(r.events_cursor as number).toBeGreaterThanOrEqual(beforeBackfill - 5 * 60_000);
    expect(r.events_cursor as number).toBeLessThanOrEqual(afterBackfill - 5 * 60_000);
    const [run] = await runs(user.id);
    // …plus one look at the events feed since the backfill began (no deletion: no second walk).
    expect(t.hevy.requests.filter((r) => r.path === "/v1/workouts/events")).toHaveLength(1);
    expect(run).toMatchObject({ kind: "backfill", outcome: "ok", upserts: 137, hevy_requests: tPages + 14 + 1 });

    // Templates: built-ins shared, the custom one under this user.
    const templates = await (await dbOf(user.id)).prepare("SELECT user_id, count(*) AS n FROM hevy_exercise_templates GROUP BY user_id ORDER BY user_id").all();
    expect(templates.results).toEqual([
      { user_id: "", n: t.hevy.listExerciseTemplates(account.apiKey).length - 1 },
      { user_id: user.id, n: 1 },
    ]);
  });

  it("finishes an empty account at once", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    await connect(t, user, account.apiKey);
    await drainQueue(t, { backfill: fastBackfill() });
    expect((await view(t, user)).backfill).toEqual({ state: "done", pages_done: 0, page_count: 0, workouts_synced: 0 });
    expect(await stored(user.id)).toEqual([]);
  });

  it("converges through 3 × 429 (Retry-After: 1) then 2 × 500 on consecutive requests, never waiting less than Retry-After", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    t.hevy.generateHistory(account.apiKey, 45, { seed: 2 });
    await connect(t, user, account.apiKey);
    t.hevy.injectFault({ status: 429, retryAfter: "1", times: 3, match: "/v1/workouts" });
    t.hevy.injectFault({ status: 500, times: 2, match: "/v1/workouts" });
    const policy = recordingRetryPolicy();
    await drainQueue(t, { backfill: fastBackfill({ retry: policy }) });
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(account.apiKey)));
    expect((await view(t, user)).backfill.state).toBe("done");
    expect(policy.waits.length).toBe(5);
    expect(policy.waits.slice(0, 3).every((ms) => ms >= 1000)).toBe(true);
  });

  it("hands a chunk back to the queue when in-process retries run out, and converges", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    t.hevy.generateHistory(account.apiKey, 30, { seed: 3 });
    await connect(t, user, account.apiKey);
    t.hevy.injectFault({ status: 503, times: 8, match: "/v1/workouts" });
    const drained = await drainQueue(t, { backfill: fastBackfill() });
    const retried = drained.delivered.filter((d) => d.outcome === "retry");
    expect(retried.length).toBeGreaterThanOrEqual(1);
    expect(retried.every((d) => (d.delaySeconds ?? 0) >= 1)).toBe(true);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(account.apiKey)));
    expect((await view(t, user)).backfill).toMatchObject({ state: "done", workouts_synced: 30 });
  });

  it("stops cleanly on a 401 midway, keeping the key and what was stored; a new key resumes where it stopped", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    t.hevy.generateHistory(account.apiKey, 60, { seed: 4 });
    await connect(t, user, account.apiKey);
    const options = { backfill: fastBackfill({ pagesPerChunk: 2, concurrency: 1 }) };

    // The template pages, then the first workouts chunk (pages 1–2), then the key is revoked.
    await deliverThroughFirstWorkoutsChunk(t, options);
    const envelopeBefore = (await row(user.id))!.api_key_envelope;
    t.hevy.revokeKey(account.apiKey);
    const requestsBefore = t.hevy.requests.length;
    await drainQueue(t, options);
    expect(t.hevy.requests.length - requestsBefore).toBe(1); // the 401, and nothing after it

    const v = await view(t, user);
    expect(v.status).toBe("needs_reconnect");
    expect(v.backfill).toMatchObject({ state: "failed", pages_done: 2, workouts_synced: 20 });
    expect(v.last_error).toContain("401");
    expect((await row(user.id))!.api_key_envelope).toBe(envelopeBefore);
    expect(await stored(user.id)).toHaveLength(20);
    expect((await runs(user.id))[0]).toMatchObject({ outcome: "needs_reconnect" });

    // A fresh key for the same Hevy account resumes at page 3, not page 1.
    const newKey = t.hevy.issueKey(account.apiKey);
    t.hevy.requests.length = 0;
    await connect(t, user, newKey);
    await drainQueue(t, options);
    const pages = t.hevy.requests.filter((r) => r.path === "/v1/workouts").map((r) => Number(r.query.page));
    expect(pages).toEqual([3, 4, 5, 6]);
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(newKey)));
    expect((await view(t, user)).backfill).toMatchObject({ state: "done", workouts_synced: 60 });
  });

  it("records exhausted retries in the dead-letter queue as a failed backfill that a sync resumes", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    t.hevy.generateHistory(account.apiKey, 25, { seed: 5 });
    await connect(t, user, account.apiKey);
    t.hevy.injectFault({ status: 500, times: 1000, match: "/v1/workouts" });
    const drained = await drainQueue(t, { backfill: fastBackfill() });
    expect(drained.deadLettered).toHaveLength(1);
    const v = await view(t, user);
    expect(v.backfill.state).toBe("failed");
    expect(v.last_error).toMatch(/Backfill stopped after repeated Hevy errors \(Hevy answered 500/);
    expect((await runs(user.id))[0]).toMatchObject({ outcome: "failed" });

    t.hevy.clearFaults();
    expect((await t.request(`${CONN}/sync`, { method: "POST", token: user.token })).status).toBe(202);
    await drainQueue(t, { backfill: fastBackfill() });
    expect((await view(t, user)).backfill).toMatchObject({ state: "done", workouts_synced: 25 });
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(account.apiKey)));
  });

  it("changes nothing when run again", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    t.hevy.generateHistory(account.apiKey, 33, { seed: 6 });
    await connect(t, user, account.apiKey);
    await drainQueue(t, { backfill: fastBackfill() });
    const db = await dbOf(user.id);
    const dump = () =>
      Promise.all(
        ["hevy_workouts", "hevy_exercises", "hevy_sets"].map((table) =>
          db.prepare(`SELECT * FROM ${rowsOf(table)} ORDER BY 1, 2, 3`).bind(user.id).all().then((r) =>
            r.results.map(({ synced_at: _ignored, ...rest }) => rest),
          ),
        ),
      );
    const before = await dump();
    await db.prepare("UPDATE hevy_connections SET backfill_state = 'failed', backfill_pages_done = 0, backfill_page_count = NULL WHERE user_id = ?")
      .bind(user.id)
      .run();
    await t.request(`${CONN}/sync`, { method: "POST", token: user.token });
    await drainQueue(t, { backfill: fastBackfill() });
    expect(await dump()).toEqual(before);
  });

  it("keeps two users' data apart", async () => {
    const alice = await createUser(t);
    const bob = await createUser(t);
    const a = t.hevy.createAccount();
    const b = t.hevy.createAccount();
    t.hevy.generateHistory(a.apiKey, 21, { seed: 7 });
    t.hevy.generateHistory(b.apiKey, 12, { seed: 8 });
    await connect(t, alice, a.apiKey);
    await connect(t, bob, b.apiKey);
    await drainQueue(t, { backfill: fastBackfill() });
    expect(await stored(alice.id)).toEqual(truth(t.hevy.listWorkouts(a.apiKey)));
    expect(await stored(bob.id)).toEqual(truth(t.hevy.listWorkouts(b.apiKey)));
  });

  it("drops chunks of a superseded run", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    t.hevy.generateHistory(account.apiKey, 5, { seed: 9 });
    await connect(t, user, account.apiKey);
    const [stale] = t.queue.take();
    await connect(t, user, account.apiKey); // a new run id
    t.queue.messages.unshift(stale!);
    const before = t.hevy.requests.length;
    const drained = await drainQueue(t, { backfill: fastBackfill() });
    expect(drained.delivered[0]!.outcome).toBe("ack");
    // Only the current run talked to Hevy: the template pages, one workout page, one events page.
    expect(t.hevy.requests.length - before).toBe(templatePages(t, account.apiKey) + 2);
  });

  it("walks the list again when Hevy reports a deletion during the walk, so no shifted workout is missed", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    t.hevy.generateHistory(account.apiKey, 40, { seed: 12 });
    const listed = t.hevy.listWorkouts(account.apiKey);
    await connect(t, user, account.apiKey);
    const options = { backfill: fastBackfill({ pagesPerChunk: 2, concurrency: 1 }) };
    // Templates, then the first chunk (pages 1–2); then the user deletes a workout of page 1 in Hevy,
    // which moves listed[20] from page 3 to page 2, already read.
    await deliverThroughFirstWorkoutsChunk(t, options);
    t.hevy.deleteWorkout(account.apiKey, listed[3]!.id);
    const drained = await drainQueue(t, options);
    expect(drained.delivered.map((d) => d.body.type === "backfill" && d.body.pass)).toContain(2);
    const shifted = listed[20]!.id;
    expect((await stored(user.id)).map((w) => w.id)).toContain(shifted);
    expect((await view(t, user)).backfill.state).toBe("done");
    // The deletion itself arrives with the next delta.
    await t.request(`${CONN}/sync`, { method: "POST", token: user.token });
    await drainQueue(t, { backfill: fastBackfill(), delta: { concurrency: 1, retry: recordingRetryPolicy() } });
    expect(await stored(user.id)).toEqual(truth(t.hevy.listWorkouts(account.apiKey)));
  });

  it("costs one D1 round trip per page of 10 workouts, whatever the page holds", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    t.hevy.generateHistory(account.apiKey, 80, { seed: 10 });
    await connect(t, user, account.apiKey);
    await drainQueue(t, { backfill: fastBackfill({ pagesPerChunk: 1 }) }); // store everything once

    const measure = async (pages: number) => {
      const runId = crypto.randomUUID();
      await (await dbOf(user.id)).prepare(
        "UPDATE hevy_connections SET backfill_run_id = ?, backfill_state = 'running', backfill_pages_done = 0 WHERE user_id = ?",
      )
        .bind(runId, user.id)
        .run();
      const stats = newD1Stats();
      const userDeps = await depsFor(user.id, { queue: t.env.SYNC_QUEUE });
      const deps = withD1Stats(userDeps, userDeps.d1, stats);
      await runBackfillChunk(deps, { type: "backfill", userId: user.id, runId, phase: "workouts", page: 1 }, fastBackfill({ pagesPerChunk: pages, concurrency: 1 }));
      t.queue.take();
      return stats;
    };
    const one = await measure(1);
    const five = await measure(5);
    expect((five.roundTrips - one.roundTrips) / 4).toBe(1);
    // Twenty-two statements a page, one round trip: the store's nineteen (rows, the user's key, exercises, sets, the
    // PRs and weekly rollups kept at write time, the unified feed's pairs), the skipped-records note,
    // progress, the run's count.
    expect((five.statements - one.statements) / 4).toBe(22);
    // 10 workouts with ~25 sets each, in one batch: the per-page cost does not grow with the sets.
    const sets = await (await dbOf(user.id)).prepare(`SELECT count(*) AS n FROM ${rowsOf("hevy_sets")}`).bind(user.id).first<{ n: number }>();
    expect(sets!.n).toBeGreaterThan(80 * 15);
  });
});
