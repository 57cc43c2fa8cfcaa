import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Workout } from "../src/hevy/types";
import { expectedPrs, type Row } from "./metrics-oracle";

// Migrations meet databases that already hold rows: each case migrates MIGRATION_DB up to the
// step before, writes rows the way the code of that time did, applies the step, and compares.

const db = () => env.MIGRATION_DB;
const upTo = (name: string) => env.TEST_MIGRATIONS.filter((m) => m.name < name);

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
});
