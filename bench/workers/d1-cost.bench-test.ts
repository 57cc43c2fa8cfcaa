// D1 cost of each operation (docs/SCALING.md): how long the database itself is busy.
// A D1 database runs one query at a time, so the SQL time of an operation, not its
// latency, says how many of them one database can serve.
//
// Writes: the SQL time D1 reports for each statement (`meta.duration`), summed per
// batch, with rows read and written (what D1 bills). Reads through the Worker's own
// fetch handler: the D1 binding is wrapped to time every call the route makes — wall
// time of local D1, an upper bound of the SQL time (it includes the local RPC hop).
import { createExecutionContext, createMessageBatch, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it, vi } from "vitest";
import { runBatch } from "../../src/db/batch";
import { hevyConnections } from "../../src/db/schema";
import { createDeps } from "../../src/deps";
import type { Env } from "../../src/env";
import { workoutSchema } from "../../src/hevy/schemas";
import worker from "../../src/index";
import { Keyring } from "../../src/lib/crypto";
import { handleQueueBatch } from "../../src/queue/consumer";
import { upsertWorkoutsStatements } from "../../src/services/sync/store";
import { rollupOwner } from "../../src/services/metrics/rollups";
import { currentPrs } from "../../src/services/metrics/prs";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import { createUser } from "../../src/services/users";
import { FakeHevy } from "../../test/fakes/hevy";

const WORKOUTS = Number(process.env.BENCH_D1_WORKOUTS ?? 2_000);
const READS = 40;

/** A D1 binding that adds the wall time of every call to `clock.ms` and counts them. */
function timed(d1: D1Database, clock: { ms: number; calls: number }): D1Database {
  const time = async <T>(p: Promise<T>) => {
    const t = performance.now();
    try { return await p; } finally { clock.ms += performance.now() - t; clock.calls++; }
  };
  const REAL = Symbol("real");
  const wrap = (s: D1PreparedStatement): D1PreparedStatement => ({
    [REAL]: s,
    bind: (...v: unknown[]) => wrap(s.bind(...v)),
    first: (...a: unknown[]) => time((s.first as (...x: unknown[]) => Promise<unknown>)(...a)),
    all: () => time(s.all()),
    run: () => time(s.run()),
    raw: (...a: unknown[]) => time((s.raw as (...x: unknown[]) => Promise<unknown>)(...a)),
  }) as unknown as D1PreparedStatement;
  return {
    prepare: (q: string) => wrap(d1.prepare(q)),
    batch: (stmts: D1PreparedStatement[]) => time(d1.batch(stmts.map((s) => (s as unknown as Record<symbol, D1PreparedStatement>)[REAL] ?? s))),
    exec: (q: string) => time(d1.exec(q)),
    dump: () => d1.dump(),
    withSession: (c?: string) => d1.withSession(c),
  } as unknown as D1Database;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
  return { n: s.length, mean: Math.round((s.reduce((a, b) => a + b, 0) / s.length) * 100) / 100, p50: Math.round(at(50) * 100) / 100, p95: Math.round(at(95) * 100) / 100 };
};

it(`D1 cost per operation, ${WORKOUTS} workouts`, async () => {
  const fake = new FakeHevy({ seed: 3 });
  vi.stubGlobal("fetch", (input: RequestInfo | URL, init?: RequestInit) => fake.fetch(input, init));
  const deps = await createDeps(env as Env);
  const { user, apiToken } = await createUser(deps, { email: `d1cost-${crypto.randomUUID()}@example.com`, timezone: "Europe/Berlin" });
  const account = fake.createAccount();
  const history = fake.generateHistory(account.apiKey, WORKOUTS, { seed: 3, end: new Date(Date.now() - 86_400_000) }).map((w) => workoutSchema.parse(w));

  // Writes: one backfill page (10 workouts, ~230 sets) per batch, as the sync stores it. Beside it,
  // in the same run and interleaved page by page, the same pages for two other users stored without
  // part of the upkeep: without the weekly rollups (hevy_week*, hevy_rollup_state), and without any
  // number kept at write time (the PRs' hevy_pr* too) — what each costs a page.
  const { user: prsOnly } = await createUser(deps, { email: `d1cost-prs-${crypto.randomUUID()}@example.com`, timezone: "Europe/Berlin" });
  const { user: bare } = await createUser(deps, { email: `d1cost-bare-${crypto.randomUUID()}@example.com`, timezone: "Europe/Berlin" });
  const dialect = new SQLiteSyncDialect();
  const keep = { all: /$^/, prs: /hevy_week|hevy_rollup/, none: /hevy_pr|hevy_week|hevy_rollup/ } as const;
  const pageWrite = async (workouts: typeof history, userId = user.id, upkeep: keyof typeof keep = "all") => {
    const statements = upsertWorkoutsStatements(await rollupOwner(env.DB, userId), workouts, Date.now());
    const results = await runBatch(env.DB, statements.filter((q) => !keep[upkeep].test(dialect.sqlToQuery(q).sql)));
    return {
      sqlMs: results.reduce((n, r) => n + (r.meta.duration ?? 0), 0),
      rowsRead: results.reduce((n, r) => n + (r.meta.rows_read ?? 0), 0),
      rowsWritten: results.reduce((n, r) => n + (r.meta.rows_written ?? 0), 0),
    };
  };
  const inserts = [];
  const prsOnlyInserts = [];
  const bareInserts = [];
  for (let i = 0; i < history.length; i += 10) {
    inserts.push(await pageWrite(history.slice(i, i + 10)));
    prsOnlyInserts.push(await pageWrite(history.slice(i, i + 10), prsOnly.id, "prs"));
    bareInserts.push(await pageWrite(history.slice(i, i + 10), bare.id, "none"));
  }
  const rewrites = [];
  for (let i = 0; i < 200 && i < history.length; i += 10) rewrites.push(await pageWrite(history.slice(i, i + 10).map((w) => ({ ...w, updatedAt: w.updatedAt + 1 }))));

  const now = Date.now();
  const keyring = await Keyring.load(env.KEY_ENCRYPTION_KEY);
  await deps.db.insert(hevyConnections).values({
    userId: user.id, status: "active", hevyUserId: account.userId, hevyUserName: account.name,
    apiKeyEnvelope: await keyring.encrypt(account.apiKey, `hevy_api_key:${user.id}`), webhookStatus: "unavailable",
    backfillRunId: crypto.randomUUID(), backfillState: "done", backfillPagesDone: WORKOUTS / 10, backfillPageCount: WORKOUTS / 10,
    backfillWorkoutsSynced: WORKOUTS, eventsCursor: now - 60_000, keyEpoch: crypto.randomUUID(), createdAt: now, updatedAt: now,
  });

  // Reads (and the Apple Health upsert) through the Worker's fetch handler, D1 timed.
  const clock = { ms: 0, calls: 0 };
  const timedEnv = { ...env, DB: timed(env.DB, clock) } as Env;
  const call = async (path: string, init: RequestInit = {}) => {
    const before = { ...clock };
    const ctx = createExecutionContext();
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${apiToken}`);
    const res = await worker.fetch(new Request(`https://vitaltrends.bench${path}`, { ...init, headers }), timedEnv, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status, `${path}: ${await res.clone().text()}`).toBeLessThan(300);
    await res.arrayBuffer();
    return { ms: clock.ms - before.ms, calls: clock.calls - before.calls };
  };
  const twins = history.slice(0, 500).map((w, i) => ({
    external_id: `ah-${i}`, activity_type: "traditional_strength_training", start_time: new Date(w.startTime + 40_000).toISOString(),
    end_time: new Date(w.endTime).toISOString(), calories_kcal: 350, avg_hr_bpm: 118, max_hr_bpm: 160,
  }));
  const put = await call("/api/v1/sources/apple_health/workouts", { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ items: twins }) });

  const reads: Record<string, ReturnType<typeof stats> & { d1Calls: number }> = {};
  for (const [name, path] of [
    ["workouts_page_20", "/api/v1/workouts/hevy?limit=20"],
    ["unified_page_50", "/api/v1/workouts/unified?limit=50"],
    ["summary_12_weeks", "/api/v1/hevy/summary?weeks=12"],
    ["trends_12_weeks", "/api/v1/hevy/trends?weeks=12"],
    ["prs", "/api/v1/hevy/prs"],
    ["muscle_groups_all_time", "/api/v1/hevy/muscle-groups"],
    ["latest_session_recovery", "/api/v1/hevy/sessions/latest/recovery"],
    ["connection_view", "/api/v1/connections/hevy"],
  ] as const) {
    const runs = [];
    for (let i = 0; i < READS; i++) runs.push(await call(path));
    reads[name] = { ...stats(runs.map((r) => r.ms)), d1Calls: runs[0]!.calls };
  }

  // The PR read on its own (the rows kept at write time): D1's own SQL time for it, against the wall time above.
  const { sql: prSql, params } = new SQLiteSyncDialect().sqlToQuery(currentPrs(user.id).statement);
  const prSqlMs = [];
  for (let i = 0; i < 10; i++) prSqlMs.push((await env.DB.prepare(prSql).bind(...params).all()).meta.duration);

  // One hourly delta with three changes (an edit, a deletion, a new workout): the whole run's D1 time.
  const [a, b] = fake.listWorkouts(account.apiKey);
  fake.putWorkout(account.apiKey, { ...a!, title: "edited" });
  fake.deleteWorkout(account.apiKey, b!.id);
  fake.putWorkout(account.apiKey, { ...fake.generateHistory(account.apiKey, 1, { seed: 4 })[0]! });
  const deltaRuns = [];
  for (let i = 0; i < 10; i++) {
    const before = clock.ms;
    const batch = createMessageBatch<unknown>("vitaltrends-hevy-sync", [{ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body: { type: "delta", userId: user.id, reason: "cron" } }]);
    await handleQueueBatch(batch, timedEnv);
    deltaRuns.push(clock.ms - before);
  }

  const result = {
    workouts: WORKOUTS,
    sets: history.reduce((n, w) => n + w.exercises.reduce((m, e) => m + e.sets.length, 0), 0),
    /** SQL time D1 reports for storing one page of 10 new workouts, and rows read/written (billing). */
    pageInsert: { sqlMs: stats(inserts.map((r) => r.sqlMs)), rowsRead: stats(inserts.map((r) => r.rowsRead)).mean, rowsWritten: stats(inserts.map((r) => r.rowsWritten)).mean },
    /** The same pages for other users, measured interleaved with pageInsert: without the weekly rollups' statements, and without any upkeep (PRs nor rollups). */
    pageInsertWithoutRollups: { sqlMs: stats(prsOnlyInserts.map((r) => r.sqlMs)), rowsRead: stats(prsOnlyInserts.map((r) => r.rowsRead)).mean, rowsWritten: stats(prsOnlyInserts.map((r) => r.rowsWritten)).mean },
    pageInsertWithoutUpkeep: { sqlMs: stats(bareInserts.map((r) => r.sqlMs)), rowsRead: stats(bareInserts.map((r) => r.rowsRead)).mean, rowsWritten: stats(bareInserts.map((r) => r.rowsWritten)).mean },
    /** The same page stored again with a newer updated_at (every row replaced). */
    pageRewrite: { sqlMs: stats(rewrites.map((r) => r.sqlMs)), rowsRead: stats(rewrites.map((r) => r.rowsRead)).mean, rowsWritten: stats(rewrites.map((r) => r.rowsWritten)).mean },
    /** Wall time of local D1 per request (upper bound of SQL time), and D1 calls made. */
    readsD1Ms: reads,
    /** SQL time D1 reports for the PR read alone. */
    prStatementSqlMs: stats(prSqlMs),
    appleHealthPut500: { d1Ms: Math.round(put.ms * 100) / 100, d1Calls: put.calls },
    /** D1 time of one delta run (first run: 3 changes; then nine no-change runs). */
    deltaD1Ms: { withChanges: Math.round(deltaRuns[0]! * 100) / 100, noChange: stats(deltaRuns.slice(1)) },
  };
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
});
