import { describe, expect, it } from "vitest";
import type { Workout } from "../src/hevy/types";
import { createUser, dataDbs, dbOf, shardOf, type TestContext, type TestUser, useTestContext } from "./helpers";
import { getAt, store, template, uniqueId } from "./metrics-fixtures";

// The denser rows of SPEC §12 (migration 0007): small integer keys instead of UUIDs in exercises
// and sets, set types stored as codes, measurements with NUMERIC affinity. What a user sees must
// not change: every value comes back as Hevy sent it, and keys never mix two users' rows.

const NOW = "2026-11-27T12:00:00Z";
const START = Date.parse("2026-11-23T08:00:00Z"); // a Monday, inside the current week

function lift(id: string, tid: string, sets: Array<[string, number | null, number | null, number | null]>, title = "Lift"): Workout {
  return {
    id, title, description: null, routineId: null, startTime: START, endTime: START + 3_600_000, updatedAt: START + 3_600_000, createdAt: null,
    exercises: [{
      index: 0, title: "Bench Press (Barbell)", notes: null, exerciseTemplateId: tid, supersetId: null,
      sets: sets.map(([type, weightKg, reps, rpe], index) => ({
        index, type, weightKg, reps, distanceMeters: null, durationSeconds: null, rpe, customMetric: null,
      })),
    }],
  };
}


/**
 * Two users whose rows share one database (SPEC §12 spreads new users over the shards, so users
 * are created until one lands beside the first): keys are only unique within a database, and
 * rows of two users can only mix where both users live.
 */
async function twoUsersOnOneDatabase(t: TestContext): Promise<[TestUser, TestUser]> {
  const a = await createUser(t);
  const shard = await shardOf(a.id);
  for (let attempt = 0; attempt < 4; attempt++) {
    const b = await createUser(t);
    if ((await shardOf(b.id)) === shard) return [a, b];
  }
  throw new Error("no second user placed on the first one's shard");
}

interface WorkoutBody {
  id: string;
  exercises: Array<{ sets: Array<{ type: string; weight_kg: number | null; reps: number | null; rpe: number | null }> }>;
  metrics: { volume_kg: number; set_count: number };
}

describe("dense rows", () => {
  const t = useTestContext();

  it("give back every set type as Hevy sent it — a type spelled like a stored code stays text and counts as a working set", async () => {
    const user = await createUser(t);
    const tid = uniqueId("T");
    await template("", tid, "Bench Press (Barbell)", "chest", []);
    const id = crypto.randomUUID();
    await store(user.id, [lift(id, tid, [
      ["normal", 100, 5, 8], ["warmup", 40, 10, null], ["failure", 102.5, 3, 10], ["dropset", 80, 8, 9.5],
      ["1", 50, 2, null], ["0", 10, 1, null], ["superset", 20.41165665, 7, 7.5],
    ])]);

    const w = await getAt<WorkoutBody>(t, user, `/api/v1/workouts/hevy/${id}`, NOW);
    expect(w.exercises[0]!.sets.map((s) => [s.type, s.weight_kg, s.reps, s.rpe])).toEqual([
      ["normal", 100, 5, 8], ["warmup", 40, 10, null], ["failure", 102.5, 3, 10], ["dropset", 80, 8, 9.5],
      ["1", 50, 2, null], ["0", 10, 1, null], ["superset", 20.41165665, 7, 7.5],
    ]);
    // Volume leaves out the warm-up only: "1" and "0" are Hevy's texts, not our codes.
    const working = 100 * 5 + 102.5 * 3 + 80 * 8 + 50 * 2 + 10 * 1 + 20.41165665 * 7;
    expect(w.metrics).toMatchObject({ set_count: 7 });
    expect(w.metrics.volume_kg).toBeCloseTo(working, 9);
    const summary = await getAt<{ muscle_groups: Array<{ muscle_group: string; sets: number; volume_kg: number }>; totals: { sets: number } }>(
      t, user, "/api/v1/hevy/summary?weeks=1", NOW);
    expect(summary.totals.sets).toBe(7);
    expect(summary.muscle_groups).toHaveLength(1);
    expect(summary.muscle_groups[0]).toMatchObject({ muscle_group: "chest", sets: 6 });
    expect(summary.muscle_groups[0]!.volume_kg).toBeCloseTo(working, 9);
    const prs = await getAt<{ data: Array<{ kind: string; value: number; weight_kg: number }> }>(t, user, "/api/v1/hevy/prs", NOW);
    expect(prs.data.find((p) => p.kind === "most_reps")).toMatchObject({ value: 8 }); // the warm-up's 10 reps do not count
  });

  it("keep whole and fractional measurements exactly, and store whole ones as integers", async () => {
    const user = await createUser(t);
    const id = crypto.randomUUID();
    const values: Array<number | null> = [0, 1, 100, 62.5, 0.1, 20.41165665, 1e9, 1234.5678, null];
    await store(user.id, [lift(id, uniqueId("T"), values.map((v) => ["normal", v, v, v]))]);
    const w = await getAt<WorkoutBody>(t, user, `/api/v1/workouts/hevy/${id}`, NOW);
    expect(w.exercises[0]!.sets.map((s) => s.weight_kg)).toEqual(values);
    expect(w.exercises[0]!.sets.map((s) => s.reps)).toEqual(values);
    const stored = await (await dbOf(user.id)).prepare(
      `SELECT typeof(s.weight_kg) AS t, typeof(s.type) AS type FROM hevy_sets s JOIN hevy_workouts w ON w.key = s.workout_key
       WHERE w.user_id = ? ORDER BY s.set_index`,
    ).bind(user.id).all<{ t: string; type: string }>();
    expect(stored.results.map((r) => r.t)).toEqual(["integer", "integer", "integer", "real", "real", "real", "integer", "real", "null"]);
    expect(new Set(stored.results.map((r) => r.type))).toEqual(new Set(["integer"]));
  });

  it("never mix two users' rows: the same Hevy workout id under two users is two workouts with their own keys", async () => {
    const [a, b] = await twoUsersOnOneDatabase(t);
    const tid = uniqueId("T");
    const id = crypto.randomUUID(); // two VitalTrends users on one Hevy account see the same ids
    await store(a.id, [lift(id, tid, [["normal", 100, 5, null]], "A's")]);
    await store(b.id, [lift(id, tid, [["normal", 60, 10, null], ["warmup", 20, 10, null]], "B's")]);
    const wa = await getAt<WorkoutBody & { title: string }>(t, a, `/api/v1/workouts/hevy/${id}`, NOW);
    const wb = await getAt<WorkoutBody & { title: string }>(t, b, `/api/v1/workouts/hevy/${id}`, NOW);
    expect([wa.title, wa.exercises[0]!.sets.length, wa.metrics.volume_kg]).toEqual(["A's", 1, 500]);
    expect([wb.title, wb.exercises[0]!.sets.length, wb.metrics.volume_kg]).toEqual(["B's", 2, 600]);
    const prsA = await getAt<{ data: Array<{ kind: string; value: number }> }>(t, a, "/api/v1/hevy/prs", NOW);
    expect(prsA.data.find((p) => p.kind === "heaviest_weight")?.value).toBe(100);
    const prsB = await getAt<{ data: Array<{ kind: string; value: number }> }>(t, b, "/api/v1/hevy/prs", NOW);
    expect(prsB.data.find((p) => p.kind === "heaviest_weight")?.value).toBe(60);
    // The keys: one per workout row, each exercise under its own user's key.
    const keys = await (await dbOf(a.id)).prepare(
      `SELECT w.user_id, w.key, e.user_key, k.user_id AS key_owner FROM hevy_workouts w
       JOIN hevy_exercises e ON e.workout_key = w.key JOIN hevy_user_keys k ON k.key = e.user_key WHERE w.id = ?`,
    ).bind(id).all<{ user_id: string; key: number; user_key: number; key_owner: string }>();
    expect(keys.results).toHaveLength(2);
    expect(new Set(keys.results.map((r) => r.key)).size).toBe(2);
    for (const r of keys.results) expect(r.key_owner).toBe(r.user_id);
  });

  it("are WITHOUT ROWID tables with no user or Hevy id of their own", async () => {
    // In every database that may hold users' rows: the directory (users placed before sharding) and each shard.
    for (const db of dataDbs()) {
      const { results } = await db.prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN ('hevy_sets', 'hevy_exercises', 'hevy_week_templates') ORDER BY name",
      ).all<{ name: string; sql: string }>();
      expect(results.map((r) => r.name)).toEqual(["hevy_exercises", "hevy_sets", "hevy_week_templates"]);
      for (const r of results) expect(r.sql, r.name).toMatch(/WITHOUT ROWID\s*$/i);
      for (const table of ["hevy_sets", "hevy_exercises"]) {
        const cols = (await db.prepare("SELECT name FROM pragma_table_info(?)").bind(table).all<{ name: string }>()).results.map((c) => c.name);
        expect(cols).not.toContain("user_id");
        expect(cols).not.toContain("workout_id");
      }
    }
  });
});
