import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { runBatch } from "../src/db/batch";
import { instrumentD1, newD1Stats } from "../src/db/instrument";
import { upsertWorkoutsStatements } from "../src/services/sync/store";
import { rollupOwner } from "../src/services/metrics/rollups";
import type { HevyWorkout } from "./fakes/hevy";
import { callWorker, createUser, dbOf, expectProblem, useTestContext, type TestContext, type TestUser } from "./helpers";
import { drainQueue, fastBackfill } from "./queue-helpers";

interface ApiWorkout {
  id: string;
  title: string;
  description: string | null;
  routine_id: string | null;
  start_time: string;
  end_time: string;
  duration_seconds: number;
  updated_at: string;
  created_at: string | null;
  exercises: Array<{
    index: number;
    title: string;
    notes: string | null;
    exercise_template_id: string | null;
    superset_id: number | null;
    volume_kg: number;
    sets: Array<Record<string, unknown>>;
  }>;
  metrics: { volume_kg: number; set_count: number; exercise_count: number };
}
interface Page {
  data: ApiWorkout[];
  next_cursor: string | null;
}

async function backfilled(t: TestContext, count: number, seed = 1) {
  const user = await createUser(t);
  const account = t.hevy.createAccount();
  t.hevy.generateHistory(account.apiKey, count, { seed });
  const res = await t.request("/api/v1/connections/hevy", { method: "PUT", token: user.token, json: { api_key: account.apiKey } });
  expect(res.status).toBe(202);
  await drainQueue(t, { backfill: fastBackfill() });
  return { user, account, truth: t.hevy.listWorkouts(account.apiKey) };
}

async function list(t: TestContext, user: TestUser, query: string): Promise<Page> {
  const res = await t.request(`/api/v1/workouts/hevy?${query}`, { token: user.token });
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

async function listAll(t: TestContext, user: TestUser, query: string, startCursor: string | null = null): Promise<ApiWorkout[]> {
  const all: ApiWorkout[] = [];
  let cursor: string | null = startCursor;
  do {
    const page: Page = await list(t, user, `${query}${cursor ? `&cursor=${cursor}` : ""}`);
    all.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor);
  return all;
}

/** What the API must say about a Hevy workout, worked out independently from the fake's truth. */
function expected(w: HevyWorkout): ApiWorkout {
  let volume = 0;
  let sets = 0;
  const exerciseVolumes: number[] = [];
  for (const e of w.exercises) {
    let exerciseVolume = 0;
    for (const s of e.sets) {
      sets++;
      if (s.type !== "warmup" && s.weight_kg !== null && s.reps !== null) {
        volume += s.weight_kg * s.reps;
        exerciseVolume += s.weight_kg * s.reps;
      }
    }
    exerciseVolumes.push(exerciseVolume);
  }
  const start = Date.parse(w.start_time);
  const end = Date.parse(w.end_time);
  return {
    id: w.id,
    title: w.title,
    description: w.description,
    routine_id: w.routine_id,
    start_time: new Date(start).toISOString().replace(".000Z", "Z"),
    end_time: new Date(end).toISOString().replace(".000Z", "Z"),
    duration_seconds: (end - start) / 1000,
    updated_at: new Date(Date.parse(w.updated_at)).toISOString().replace(".000Z", "Z"),
    created_at: new Date(Date.parse(w.created_at)).toISOString().replace(".000Z", "Z"),
    exercises: w.exercises.map((e, i) => ({
      index: e.index,
      title: e.title,
      notes: e.notes,
      exercise_template_id: e.exercise_template_id,
      superset_id: e.supersets_id,
      volume_kg: exerciseVolumes[i]!,
      sets: e.sets.map((s) => ({ ...s })),
    })),
    metrics: { volume_kg: volume, set_count: sets, exercise_count: w.exercises.length },
  };
}

const newestFirst = (a: { start_time: string; id: string }, b: { start_time: string; id: string }) =>
  Date.parse(b.start_time) - Date.parse(a.start_time) || (b.id > a.id ? 1 : b.id < a.id ? -1 : 0);

describe("GET /api/v1/workouts/hevy", () => {
  const t = useTestContext();

  it("pages through every workout once, newest first, with every field and metrics", async () => {
    const { user, truth } = await backfilled(t, 43);
    const all = await listAll(t, user, "limit=7");
    expect(all).toHaveLength(43);
    expect(all).toEqual(truth.map(expected).sort(newestFirst));
    const first = await list(t, user, "");
    expect(first.data).toHaveLength(20);
    expect(first.next_cursor).toEqual(expect.any(String));
    const last = await list(t, user, "limit=100");
    expect(last.data).toHaveLength(43);
    expect(last.next_cursor).toBeNull();
  });

  it("filters on start_time (from inclusive, to exclusive) and on Hevy's updated_at (inclusive)", async () => {
    const { user, truth } = await backfilled(t, 30, 2);
    const starts = truth.map((w) => Date.parse(w.start_time)).sort((a, b) => a - b);
    const from = starts[10]!;
    const to = starts[20]!;
    const iso = (ms: number) => new Date(ms).toISOString();
    const inRange = await listAll(t, user, `from=${iso(from)}&to=${iso(to)}&limit=100`);
    expect(inRange.map((w) => w.id).sort()).toEqual(
      truth.filter((w) => Date.parse(w.start_time) >= from && Date.parse(w.start_time) < to).map((w) => w.id).sort(),
    );
    const updates = truth.map((w) => Date.parse(w.updated_at)).sort((a, b) => a - b);
    const since = updates[25]!;
    const updated = await listAll(t, user, `updated_since=${iso(since)}`);
    expect(updated.map((w) => w.id).sort()).toEqual(truth.filter((w) => Date.parse(w.updated_at) >= since).map((w) => w.id).sort());
    expect(await listAll(t, user, `from=${iso(from)}&to=${iso(from)}`)).toEqual([]);
  });

  it("is stable under inserts: no duplicates, no gaps", async () => {
    const { user, truth } = await backfilled(t, 25, 3);
    const firstPage = await list(t, user, "limit=10");
    // New workouts land before, inside and after the part already paged.
    const starts = truth.map((w) => Date.parse(w.start_time)).sort((a, b) => b - a);
    const inserts = [starts[0]! + 86_400_000, starts[4]! - 1000, starts[20]! - 1000].map((start, i) => ({
      id: `00000000-0000-4000-8000-00000000000${i}`, title: `Inserted ${i}`, description: null, routineId: null,
      startTime: start, endTime: start + 3_600_000, updatedAt: Date.now(), createdAt: Date.now(), exercises: [],
    }));
    const db = await dbOf(user.id);
    await runBatch(db, upsertWorkoutsStatements(await rollupOwner(db, user.id), inserts, Date.now()));
    const rest = await listAll(t, user, "limit=10", firstPage.next_cursor);
    const seen = [...firstPage.data, ...rest].map((w) => w.id);
    expect(new Set(seen).size).toBe(seen.length);
    for (const w of truth) expect(seen).toContain(w.id);
    expect(seen).toContain(inserts[2]!.id); // older than the cursor: shown
    expect(seen).not.toContain(inserts[0]!.id); // newer than the cursor: on page one next time, not a duplicate now
  });

  it("costs the same number of D1 queries per page whatever the limit", async () => {
    const { user } = await backfilled(t, 40, 4);
    const count = async (limit: number) => {
      const stats = newD1Stats();
      // Every database (the directory's token lookup and the user's shard) counts into the same stats.
      const app = createApp({ deps: { wrapD1: (d1) => instrumentD1(d1, stats) } });
      const res = await callWorker(t.env, `/api/v1/workouts/hevy?limit=${limit}`, { token: user.token, app });
      expect(res.status).toBe(200);
      expect(((await res.json()) as Page).data).toHaveLength(Math.min(limit, 40));
      return stats;
    };
    const small = await count(1);
    const large = await count(100);
    expect(large).toEqual(small);
    expect(small.roundTrips).toBe(2); // the token lookup, then one batch of three statements
  });

  it("answers bad limits, cursors, dates and unknown parameters with 400", async () => {
    const user = await createUser(t);
    const cases: Array<[string, string]> = [
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["limit=abc", "limit"],
      ["limit=1.5", "limit"],
      ["limit=-3", "limit"],
      ["cursor=%%%", "cursor"],
      [`cursor=${btoa('{"s":"x","i":1}')}`, "cursor"],
      ["cursor=bm90IGpzb24", "cursor"],
      ["from=yesterday", "from"],
      ["from=2026-13-01", "from"],
      ["from=2026-02-30", "from"],
      ["to=2026-11-20T17:02:00", "to"],
      ["updated_since=1700000000", "updated_since"],
      ["from=2026-11-20&to=2026-11-19", "from"],
      ["sort=asc", ""],
      ["limit=5&limit=6", "limit"],
    ];
    for (const [query, path] of cases) {
      const problem = await expectProblem(await t.request(`/api/v1/workouts/hevy?${query}`, { token: user.token }), 400, "validation_failed");
      expect(problem.errors?.map((e) => e.path), query).toContain(path);
    }
  });
});

describe("GET /api/v1/workouts/hevy/{id}", () => {
  const t = useTestContext();

  it("returns one workout; another user's, a deleted or an unknown id answers 404", async () => {
    const { user, truth } = await backfilled(t, 3, 5);
    const other = await createUser(t);
    // And one whose rows share the user's database (SPEC §12 spreads new users over the shards).
    let neighbour = await createUser(t);
    for (let i = 0; i < 3 && (await dbOf(neighbour.id)) !== (await dbOf(user.id)); i++) neighbour = await createUser(t);
    expect(await dbOf(neighbour.id)).toBe(await dbOf(user.id));
    const target = truth[1]!;
    const res = await t.request(`/api/v1/workouts/hevy/${target.id}`, { token: user.token });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(expected(target));

    await expectProblem(await t.request(`/api/v1/workouts/hevy/${target.id}`, { token: other.token }), 404, "not_found");
    await expectProblem(await t.request(`/api/v1/workouts/hevy/${target.id}`, { token: neighbour.token }), 404, "not_found");
    await expectProblem(await t.request(`/api/v1/workouts/hevy/${crypto.randomUUID()}`, { token: user.token }), 404, "not_found");
    await expectProblem(await t.request(`/api/v1/workouts/hevy/..%2F..%2Fadmin`, { token: user.token }), 400, "validation_failed");

    await (await dbOf(user.id)).prepare("UPDATE hevy_workouts SET deleted_at = 1 WHERE user_id = ? AND id = ?").bind(user.id, target.id).run();
    await expectProblem(await t.request(`/api/v1/workouts/hevy/${target.id}`, { token: user.token }), 404, "not_found");
  });
});
