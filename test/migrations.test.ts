import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { decodeSetType } from "../src/db/set-type";
import type { Workout } from "../src/hevy/types";
import { expectedPrs, type Row } from "./metrics-oracle";

// Migrations meet databases that already hold rows: each case migrates MIGRATION_DB up to the
// step before, writes rows the way the code of that time did, applies the step, and compares.

const db = () => env.MIGRATION_DB;
const upTo = (name: string) => env.TEST_MIGRATIONS.filter((m) => m.name < name);

/** MIGRATION_DB back to empty (storage is not reset between tests): every table, its indexes and triggers dropped. */
async function emptyDb() {
  const { results } = await db().prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'").all<{ name: string }>();
  if (results.length === 0) return;
  await db().batch([db().prepare("PRAGMA defer_foreign_keys = on"), ...results.map((r) => db().prepare(`DROP TABLE "${r.name}"`))]);
}

/** Writes workouts as raw rows of the pre-0005 tables (no hevy_prs yet). */
async function insertRaw(userId: string, rows: Map<string, Row>) {
  const statements: D1PreparedStatement[] = [];
  for (const [id, row] of rows) {
    const w = row.workout;
    statements.push(
      db().prepare(`INSERT INTO hevy_workouts (user_id, id, title, start_time, end_time, hevy_updated_at, deleted_at, synced_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, 0)`).bind(userId, id, w?.title ?? "", w?.startTime ?? 0, w?.endTime ?? 0, row.version, row.deletedAt),
    );
    for (const e of w?.exercises ?? []) {
      statements.push(db().prepare(`INSERT INTO hevy_exercises (user_id, workout_id, exercise_index, title, exercise_template_id) VALUES (?, ?, ?, ?, ?)`)
        .bind(userId, id, e.index, e.title, e.exerciseTemplateId));
      for (const s of e.sets) {
        statements.push(db().prepare(`INSERT INTO hevy_sets (user_id, workout_id, exercise_index, set_index, type, weight_kg, reps) VALUES (?, ?, ?, ?, ?, ?, ?)`)
          .bind(userId, id, e.index, s.index, s.type, s.weightKg, s.reps));
      }
    }
  }
  await db().batch(statements);
}

function history(seed: number): Map<string, Row> {
  let x = seed;
  const next = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
  const rows = new Map<string, Row>();
  for (let i = 0; i < 40; i++) {
    const id = `w-${seed}-${i}`;
    const startTime = Date.parse("2026-05-01T08:00:00Z") + Math.floor(next() * 20) * 86_400_000;
    const workout: Workout = {
      id, title: `W${i}`, description: null, routineId: null, startTime, endTime: startTime + 3_600_000, updatedAt: 1000 + i, createdAt: null,
      exercises: Array.from({ length: 1 + Math.floor(next() * 3) }, (_, index) => ({
        index, title: `Exercise ${index}`, notes: null, supersetId: null, exerciseTemplateId: pick(["T1", "T2", "T3", null]),
        sets: Array.from({ length: 1 + Math.floor(next() * 4) }, (_, si) => ({
          index: si, type: pick(["warmup", "normal", "failure", "dropset"]), weightKg: pick([null, 0, 40, 60, 100, 102.5]),
          reps: pick([null, 1, 5, 8, 12, 15]), distanceMeters: null, durationSeconds: null, rpe: null, customMetric: null,
        })),
      })),
    };
    // Now and then a large index or a start before 1970: the back-fill must not pack them into one number.
    if (i % 7 === 3) workout.exercises[0]!.sets[0]!.index = 1000;
    if (i % 11 === 5) { workout.startTime = Date.parse("1965-05-01T08:00:00Z"); workout.endTime = workout.startTime + 3_600_000; }
    // Every fifth one was deleted in Hevy: a tombstone with no sets.
    rows.set(id, i % 5 === 4 ? { version: 1000 + i, deletedAt: 5000 + i, workout: null } : { version: 1000 + i, deletedAt: null, workout });
  }
  return rows;
}

describe("migrations on a database that holds rows", () => {
  it("0005 fills every user's PRs from the rows already stored", async () => {
    await emptyDb();
    await applyD1Migrations(db(), upTo("0005"));
    const users = ["user-a", "user-b"];
    const histories = users.map((_, i) => history(i + 7));
    for (const [i, user] of users.entries()) {
      await db().prepare("INSERT INTO users (id, email, timezone, created_at) VALUES (?, ?, 'UTC', 0)").bind(user, `${user}@example.com`).run();
      await insertRaw(user, histories[i]!);
    }
    await applyD1Migrations(db(), env.TEST_MIGRATIONS);

    for (const [i, user] of users.entries()) {
      const { results } = await db()
        .prepare(`SELECT template_id, kind, value, weight_kg, reps, start_time, workout_id FROM hevy_prs WHERE user_id = ? ORDER BY template_id, kind`)
        .bind(user)
        .all<{ template_id: string; kind: number; value: number; weight_kg: number | null; reps: number | null; start_time: number; workout_id: string }>();
      const kinds = ["heaviest_weight", "best_e1rm", "most_reps", "best_set_volume"];
      const got = results
        .map((r) => ({
          exercise_template_id: r.template_id, kind: kinds[r.kind], value: r.value, weight_kg: r.weight_kg, reps: r.reps,
          workout_id: r.workout_id, achieved_at: new Date(r.start_time).toISOString().replace(".000Z", "Z"),
        }))
        .sort((a, b) => (a.exercise_template_id + a.kind < b.exercise_template_id + b.kind ? -1 : 1));
      const want = expectedPrs(histories[i]!);
      expect(want.length).toBeGreaterThan(4); // a history that has PRs to carry over
      expect(got).toEqual(want);
    }
  });

  it("0007 keeps every workout, exercise and set under the new small keys, and the unpairing trigger", async () => {
    await emptyDb();
    await applyD1Migrations(db(), upTo("0007"));
    const users = ["user-a", "user-b", "user-c"];
    for (const [i, user] of users.entries()) {
      await db().prepare("INSERT INTO users (id, email, timezone, created_at) VALUES (?, ?, 'UTC', 0)").bind(user, `${user}@example.com`).run();
      await insertRaw(user, history(i + 21));
    }
    // Odd values the copy must carry as they are: fractions, notes, supersets, a description, and a
    // set type Hevy spelled like one of the new codes (it must stay that text).
    await db().batch([
      db().prepare("UPDATE hevy_sets SET rpe = 8.5, distance_meters = 1234.5, duration_seconds = 61, custom_metric = 2 WHERE user_id = 'user-a' AND set_index = 0"),
      db().prepare("UPDATE hevy_exercises SET notes = 'slow', superset_id = 3 WHERE user_id = 'user-b' AND exercise_index = 1"),
      db().prepare("UPDATE hevy_sets SET type = '1' WHERE user_id = 'user-c' AND set_index = 1"),
      db().prepare("UPDATE hevy_workouts SET description = 'd', routine_id = 'r', hevy_created_at = 7, volume_kg = 12.5, set_count = 3 WHERE user_id = 'user-c'"),
      // An Apple Health twin paired with one of user-a's workouts (the unified feed's pair).
      db().prepare(`INSERT INTO source_workouts (user_id, source, external_id, activity_type, start_time, end_time, received_at, paired_hevy_id, paired_start_time)
        VALUES ('user-a', 'apple_health', 'ah-1', 'traditional_strength_training', 0, 1, 0, 'w-21-0', 0)`),
    ]);
    const dump = async (sql: string) => (await db().prepare(sql).all()).results;
    const workoutColumns = "user_id, id, title, description, routine_id, start_time, end_time, hevy_updated_at, hevy_created_at, deleted_at, volume_kg, set_count, exercise_count, synced_at";
    const exerciseColumns = "exercise_index, title, notes, exercise_template_id, superset_id";
    const setColumns = "exercise_index, set_index, type, weight_kg, reps, distance_meters, duration_seconds, rpe, custom_metric";
    const before = {
      workouts: await dump(`SELECT ${workoutColumns} FROM hevy_workouts ORDER BY user_id, id`),
      exercises: await dump(`SELECT user_id, workout_id, ${exerciseColumns} FROM hevy_exercises ORDER BY 1, 2, 3`),
      sets: await dump(`SELECT user_id, workout_id, ${setColumns} FROM hevy_sets ORDER BY 1, 2, 3, 4`),
    };
    expect(before.sets.length).toBeGreaterThan(100);
    expect(before.workouts.some((w) => w.deleted_at !== null)).toBe(true);

    await applyD1Migrations(db(), env.TEST_MIGRATIONS);

    const after = {
      workouts: await dump(`SELECT ${workoutColumns} FROM hevy_workouts ORDER BY user_id, id`),
      exercises: await dump(`SELECT w.user_id, w.id AS workout_id, ${exerciseColumns.split(", ").map((c) => `e.${c}`).join(", ")}
        FROM hevy_exercises e JOIN hevy_workouts w ON w.key = e.workout_key ORDER BY 1, 2, 3`),
      sets: await dump(`SELECT w.user_id, w.id AS workout_id, ${setColumns.split(", ").map((c) => (c === "type" ? `${decodeSetType("s.type")} AS type` : `s.${c}`)).join(", ")}
        FROM hevy_sets s JOIN hevy_workouts w ON w.key = s.workout_key ORDER BY 1, 2, 3, 4`),
    };
    expect(after).toEqual(before);
    expect(before.sets.some((s) => s.type === "1")).toBe(true);
    // The unified feed's pair is untouched by the rebuild of the table it points into.
    expect(await dump("SELECT paired_hevy_id FROM source_workouts WHERE external_id = 'ah-1'")).toEqual([{ paired_hevy_id: "w-21-0" }]);
    // Each exercise's user key names its workout's user.
    const mismatched = await dump(`SELECT count(*) AS n FROM hevy_exercises e JOIN hevy_workouts w ON w.key = e.workout_key
      JOIN hevy_user_keys k ON k.key = e.user_key WHERE k.user_id <> w.user_id`);
    expect(mismatched).toEqual([{ n: 0 }]);
    expect(await dump("SELECT user_id FROM hevy_user_keys ORDER BY user_id")).toEqual(users.map((user_id) => ({ user_id })));
    // The trigger survived the table's rebuild: a purged workout frees its Apple Health twin.
    await db().prepare("DELETE FROM hevy_workouts WHERE user_id = 'user-a'").run();
    expect(await dump("SELECT paired_hevy_id FROM source_workouts WHERE external_id = 'ah-1'")).toEqual([{ paired_hevy_id: null }]);
  });
});
