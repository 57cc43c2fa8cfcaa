import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runBatch } from "../src/db/batch";
import type { Workout } from "../src/hevy/types";
import { deleteWorkoutsStatements, upsertWorkoutsStatements } from "../src/services/sync/store";
import { rollupOwner } from "../src/services/metrics/rollups";
import { createUser, useTestContext } from "./helpers";
import { getAt, type Pr, template, uniqueId } from "./metrics-fixtures";
import { expectedPrs, type Row } from "./metrics-oracle";

// The numbers kept at write time (SPEC §12) against a from-scratch recomputation written here,
// independently of the code under test: a seeded random history of creates, edits (sets added,
// removed, re-typed, re-weighted; exercises re-templated; starts moved), deletions,
// re-creations, out-of-order versions and duplicates goes through the sync's write path one
// batch at a time, and after every batch the API's answer equals the recomputation.

const NOW = "2026-06-30T12:00:00Z";

/** mulberry32: a small seeded generator, so a failure replays exactly. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!, int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)) };
}

describe("numbers kept at write time", () => {
  const t = useTestContext();

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`equal a from-scratch recomputation after every step of a random history (seed ${seed})`, async () => {
      const user = await createUser(t);
      const r = rng(seed);
      const templates = ["A", "B", "C", "D"].map((n) => uniqueId(`T${n}`));
      for (const [i, id] of templates.entries()) await template("", id, `Exercise ${i}`, "chest", []);
      const ids = Array.from({ length: 10 }, (_, i) => `w${String(i).padStart(2, "0")}-${seed}`);
      // Odd starts too (before 1970, after 2262): nothing may pack a start into a bounded number.
      const starts = [...Array.from({ length: 6 }, (_, i) => Date.parse("2026-06-01T08:00:00Z") + i * 86_400_000),
        Date.parse("1965-03-01T08:00:00Z"), Date.parse("2300-01-01T08:00:00Z")];
      const rows = new Map<string, Row>();
      let clock = 1_000_000;
      let now = Date.now();

      const randomWorkout = (id: string, version: number): Workout => ({
        id, title: `Workout ${id}`, description: null, routineId: null,
        startTime: r.pick(starts), endTime: r.pick(starts) + 3_600_000, updatedAt: version, createdAt: null,
        exercises: Array.from({ length: r.int(0, 3) }, (_, i) => ({
          // Indices are Hevy's: usually 0, 1, 2…, now and then large.
          index: r.next() < 0.1 ? 1000 + i : i, title: `Exercise ${i}`, notes: null, supersetId: null,
          exerciseTemplateId: r.next() < 0.1 ? null : r.pick(templates),
          sets: Array.from({ length: r.int(0, 4) }, (_, i) => ({
            index: r.next() < 0.1 ? 1000 + i : i, type: r.pick(["warmup", "normal", "normal", "failure", "dropset", "cluster"] as const),
            weightKg: r.pick([null, 0, 20, 40, 60, 60.5, 100, 102.5]), reps: r.pick([null, 0, 1, 3, 5, 8, 12, 13, 2.5]),
            distanceMeters: null, durationSeconds: null, rpe: null, customMetric: null,
          })),
        })),
      });
      /** The store's version guard, as SPEC §5 states it. */
      const apply = (w: Workout) => {
        const row = rows.get(w.id);
        if (!row || (w.updatedAt > row.version && (row.deletedAt === null || w.updatedAt > row.deletedAt))) {
          rows.set(w.id, { version: w.updatedAt, deletedAt: null, workout: w });
        }
      };
      const tombstone = (id: string, at: number) => {
        const row = rows.get(id);
        if (!row) rows.set(id, { version: 0, deletedAt: at, workout: null });
        else if ((row.deletedAt === null || row.deletedAt < at) && row.version <= at) rows.set(id, { ...row, deletedAt: at, workout: null });
      };

      for (let step = 0; step < 150; step++) {
        now += 1;
        const roll = r.next();
        if (roll < 0.55) {
          // Creates, edits and re-creations, one to three workouts a batch, now and then the same one twice.
          const batch = Array.from({ length: r.int(1, 3) }, () => randomWorkout(r.pick(ids), (clock += r.int(1, 5))));
          if (r.next() < 0.15) batch.push({ ...randomWorkout(batch[0]!.id, batch[0]!.updatedAt), updatedAt: batch[0]!.updatedAt - 1 });
          await runBatch(env.DB, upsertWorkoutsStatements(await rollupOwner(env.DB, user.id), batch, now));
          const latest = new Map<string, Workout>();
          for (const w of batch) if (!latest.has(w.id) || w.updatedAt >= latest.get(w.id)!.updatedAt) latest.set(w.id, w);
          for (const w of latest.values()) apply(w);
        } else if (roll < 0.7) {
          // An older version arriving late: ignored.
          const w = randomWorkout(r.pick(ids), clock - r.int(1, 50));
          await runBatch(env.DB, upsertWorkoutsStatements(await rollupOwner(env.DB, user.id), [w], now));
          apply(w);
        } else if (roll < 0.92) {
          const id = r.pick(ids);
          const at = (clock += r.int(1, 5));
          await runBatch(env.DB, deleteWorkoutsStatements(await rollupOwner(env.DB, user.id), [{ id, deletedAt: at }], now));
          tombstone(id, at);
        } else {
          // A deletion older than the stored version: ignored.
          const id = r.pick(ids);
          const at = clock - r.int(1, 50);
          await runBatch(env.DB, deleteWorkoutsStatements(await rollupOwner(env.DB, user.id), [{ id, deletedAt: at }], now));
          tombstone(id, at);
        }

        const { data } = await getAt<{ data: Pr[] }>(t, user, "/api/v1/hevy/prs", NOW);
        const got = data
          .map(({ exercise_title: _title, ...p }) => p)
          .sort((a, b) => (a.exercise_template_id + a.kind < b.exercise_template_id + b.kind ? -1 : 1));
        expect(got, `seed ${seed}, step ${step}`).toEqual(expectedPrs(rows));
      }
      const dirty = await env.DB.prepare("SELECT count(*) AS n FROM hevy_pr_dirty").first<{ n: number }>();
      expect(dirty!.n).toBe(0);
    });
  }
});

const DAY = 86_400_000;

describe("what keeping PRs and rollups costs a write", () => {
  const t = useTestContext();

  /** Rows D1 read to store one page of 10 new workouts for a user who already has `stored` of them. */
  async function rowsReadForAPage(stored: number, retitleLatest = false): Promise<number> {
    const user = await createUser(t);
    const tid = uniqueId("T");
    await template("", tid, "Bench Press", "chest", []);
    const make = (i: number): Workout => ({
      id: `w-${i}`, title: `W${i}`, description: null, routineId: null,
      // One a day: a write recomputes the weeks it touches (rollups), so what must not grow with the
      // history is the rest — a week holds at most seven workouts here, at 20 stored as at 300.
      startTime: Date.parse("2026-01-01T08:00:00Z") + i * DAY, endTime: Date.parse("2026-01-01T09:00:00Z") + i * DAY,
      updatedAt: 1_000 + i, createdAt: null,
      exercises: [{ index: 0, title: "Bench Press", notes: null, supersetId: null, exerciseTemplateId: tid,
        sets: [40, 60, 80].map((kg, si) => ({ index: si, type: "normal", weightKg: kg + i / 1000, reps: 5, distanceMeters: null, durationSeconds: null, rpe: null, customMetric: null })) }],
    });
    for (let i = 0; i < stored; i += 50) {
      await runBatch(env.DB, upsertWorkoutsStatements(await rollupOwner(env.DB, user.id), Array.from({ length: Math.min(50, stored - i) }, (_, j) => make(i + j)), Date.now()));
    }
    // The latest workout holds every PR (the heaviest sets); a new version with a new title only.
    const page = retitleLatest
      ? [{ ...make(stored - 1), title: "Renamed", updatedAt: 5_000_000 }]
      : Array.from({ length: 10 }, (_, j) => make(stored + j));
    const results = await runBatch(env.DB, upsertWorkoutsStatements(await rollupOwner(env.DB, user.id), page, Date.now()));
    return results.reduce((n, r) => n + (r.meta.rows_read ?? 0), 0);
  }

  it("reads about as many rows for a page with 300 workouts stored as with 20: nothing scans the history", async () => {
    const small = await rowsReadForAPage(20);
    const large = await rowsReadForAPage(300);
    expect(large).toBeLessThan(small + 60);
  });

  it("reads about as many rows to re-store the workout holding every PR with its sets unchanged (a title edit) at 300 as at 20", async () => {
    const small = await rowsReadForAPage(20, true);
    const large = await rowsReadForAPage(300, true);
    expect(large).toBeLessThan(small + 60);
  });
});
